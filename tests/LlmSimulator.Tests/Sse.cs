using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LlmSimulator.Tests;

/// <summary>One server-sent event as the client sees it.</summary>
internal sealed record SseEvent(string? Event, string Data);

internal static class Sse
{
    public static List<SseEvent> Parse(string body)
    {
        var events = new List<SseEvent>();
        foreach (var block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
            }

            events.Add(new SseEvent(name, data.ToString()));
        }

        return events;
    }
}

internal static class Http
{
    public static HttpRequestMessage Post(string path, string json, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static int PromptTokens(int chars) => Math.Max(1, (chars + 3) / 4);

    public static int Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
}

/// <summary>A started simulator plus a client on it; disposed per test so tests share nothing.</summary>
internal sealed class SimulatorHarness : IAsyncDisposable
{
    private SimulatorHarness(SimulatorServer server)
    {
        Server = server;
        Client = new HttpClient { BaseAddress = server.BaseAddress };
    }

    public SimulatorServer Server { get; }

    public HttpClient Client { get; }

    public static async Task<SimulatorHarness> StartAsync(SimulatorOptions? options = null) =>
        new(await SimulatorServer.StartAsync(options));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
