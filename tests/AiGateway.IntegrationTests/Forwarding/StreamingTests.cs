using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using AiGateway.IntegrationTests.Infrastructure;
using LlmSimulator;
using OpenAI;
using OpenAI.Chat;

namespace AiGateway.IntegrationTests.Forwarding;

/// <summary>Streams pass through as the upstream writes them, and a client that leaves cancels the upstream call.</summary>
public sealed class StreamingTests
{
    private const string SlowStream = """
        {"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Stream slowly"}],"simulator":{"chunks":5,"chunk_delay_ms":300}}
        """;

    // Inspection holds back only a small tail; with it off nothing can be held, so the test is about forwarding alone.
    private const string NoAnswerInspection = """, "inspection": { "inspectAnswers": false }""";

    [Fact]
    public async Task OpenAI_sdk_streamed_chat_arrives_in_order_and_complete()
    {
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Name = "streamer", DefaultChunks = 7 });
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(scenario.Token), new OpenAIClientOptions { Endpoint = new Uri(scenario.Gateway.BaseAddress, "v1") });
        ChatMessage[] messages = [new UserChatMessage("Tell me a streamed story")];
        ChatCompletion whole = await client.CompleteChatAsync(messages);

        var streamed = new StringBuilder();
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync(messages))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
                updates++;
            }
        }

        Assert.Contains("streamer", whole.Content[0].Text, StringComparison.Ordinal);
        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.True(updates > 1, "The answer arrived in one piece, not as a stream.");
        Assert.Equal(2, simulator.ReceivedRequests.Count);
    }

    [Fact]
    public async Task First_streamed_event_reaches_the_client_before_the_upstream_has_finished_the_stream()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), agencyExtra: NoAnswerInspection);

        using var response = await scenario.Client.SendAsync(GatewayHttp.Post("v1/chat/completions", SlowStream), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await ReadDataAsync(reader);
        // Causal check: a buffering gateway could only deliver this after the simulator completed the stream.
        Assert.Equal(0, simulator.CompletedStreamCount);
        Assert.Equal("chat.completion.chunk", JsonDocument.Parse(first!).RootElement.GetProperty("object").GetString());

        var events = new List<string> { first! };
        while (await ReadDataAsync(reader) is { } data)
        {
            events.Add(data);
        }

        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(1, simulator.CompletedStreamCount);
    }

    [Fact]
    public async Task First_streamed_event_reaches_the_client_before_the_upstream_has_finished_with_answer_inspection_on()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.Client.SendAsync(GatewayHttp.Post("v1/chat/completions", SlowStream), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await ReadDataAsync(reader);
        Assert.NotNull(first);
        Assert.Equal(0, simulator.CompletedStreamCount);
    }

    [Fact]
    public async Task Client_that_disconnects_mid_stream_cancels_the_upstream_call()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), agencyExtra: NoAnswerInspection);
        // No draining of the unread rest: disposing the response closes the connection, as a client that leaves does.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = scenario.Gateway.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", scenario.Token);

        using (var response = await client.SendAsync(GatewayHttp.Post("v1/chat/completions", SlowStream), HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.NotNull(await ReadDataAsync(reader));
        }

        await GatewayHttp.EventuallyAsync(() => simulator.AbortedRequestCount == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, simulator.CompletedStreamCount);
        Assert.Single(simulator.ReceivedRequests);
    }

    /// <summary>The next SSE <c>data:</c> payload, or null at the end of the stream.</summary>
    private static async Task<string?> ReadDataAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
        }

        return null;
    }
}
