using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AiGateway.Audit;
using AiGateway.IntegrationTests.Audit;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiGateway.IntegrationTests.Faults;

/// <summary>
/// A real gateway with its OIDC issuer, a simulator upstream and a log capture, plus what every fault test checks
/// afterwards: no unhandled exception, one journal event per request (none dropped), and the gateway serving again.
/// </summary>
internal sealed class FaultScenario : IAsyncDisposable
{
    private FaultScenario(TestOidcIssuer issuer, SimulatorServer simulator, TestGateway gateway, CapturingLoggerProvider logs)
    {
        Issuer = issuer;
        Simulator = simulator;
        Gateway = gateway;
        Logs = logs;
        Token = issuer.Token().Roles("engineer").Build();
    }

    public TestOidcIssuer Issuer { get; }

    public SimulatorServer Simulator { get; }

    public TestGateway Gateway { get; }

    public CapturingLoggerProvider Logs { get; }

    public string Token { get; }

    public AuditRecorder Recorder => Gateway.App.Services.GetRequiredService<AuditRecorder>();

    /// <param name="extraTopLevel">gateway.json top-level properties ending with a comma (e.g. a redis limitStore).</param>
    /// <param name="agencyExtra">Agency properties starting with a comma.</param>
    public static async Task<FaultScenario> StartAsync(string extraTopLevel = "", string agencyExtra = "", string? forwarding = null, string? otlpEndpoint = null)
    {
        var issuer = await TestOidcIssuer.StartAsync();
        var simulator = await SimulatorServer.StartAsync();
        try
        {
            if (otlpEndpoint is not null)
            {
                extraTopLevel += $$"""
                     "audit": { "otlp": { "endpoint": {{ConfigJson.Quote(otlpEndpoint)}}, "protocol": "http/protobuf", "exportIntervalMilliseconds": 100 } },
                    """;
            }

            var gatewayJson = forwarding is null
                ? ConfigJson.Gateway(simulator.BaseAddress, extraTopLevel: extraTopLevel)
                : ConfigJson.Gateway(simulator.BaseAddress, extraTopLevel: extraTopLevel, forwarding: forwarding);
            var agency = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer), extra: agencyExtra);
            var gateway = await TestGateway.StartAsync(gatewayJson, new Dictionary<string, string> { ["alpha"] = agency });
            var logs = new CapturingLoggerProvider();
            gateway.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
            return new FaultScenario(issuer, simulator, gateway, logs);
        }
        catch
        {
            await simulator.DisposeAsync();
            await issuer.DisposeAsync();
            throw;
        }
    }

    /// <summary>A chat body with simulator directives (e.g. <c>"fault": "reset"</c>), streamed or not.</summary>
    public static string Chat(bool stream = false, string directives = "") =>
        $$"""{"model":"gpt-4o-mini","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Hello there"}]{{(directives.Length == 0 ? "" : ",\"simulator\":{" + directives + "}")}}}""";

    /// <summary>POSTs and reads the whole answer; a broken stream comes back as <see cref="Outcome.Broken"/> instead of throwing.</summary>
    public async Task<Outcome> SendAsync(string body, string userAgent, string path = "v1/chat/completions")
    {
        using var client = Gateway.CreateClient(Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.UserAgent.ParseAdd(userAgent);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        try
        {
            var text = await response.Content.ReadAsStringAsync();
            return new Outcome(response.StatusCode, text, Broken: false, response.Content.Headers.ContentType?.MediaType);
        }
        catch (HttpRequestException)
        {
            // The upstream broke after the first byte: the client sees a truncated body, never a retried one.
            return new Outcome(response.StatusCode, string.Empty, Broken: true, response.Content.Headers.ContentType?.MediaType);
        }
    }

    /// <summary>Runs <paramref name="count"/> requests with at most <paramref name="parallel"/> in flight.</summary>
    public static async Task<Outcome[]> LoadAsync(int count, int parallel, Func<int, Task<Outcome>> send)
    {
        var results = new Outcome[count];
        using var gate = new SemaphoreSlim(parallel);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                results[i] = await send(i);
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        return results;
    }

    /// <summary>Every non-2xx answer is a gateway error in the OpenAI shape and no answer is a 500.</summary>
    public static void AssertCleanErrors(IEnumerable<Outcome> outcomes, params HttpStatusCode[] allowed)
    {
        foreach (var outcome in outcomes)
        {
            Assert.NotEqual(HttpStatusCode.InternalServerError, outcome.Status);
            Assert.True(outcome.Status == HttpStatusCode.OK || allowed.Contains(outcome.Status), $"unexpected {(int)outcome.Status}: {outcome.Body}");
            if (outcome.Status != HttpStatusCode.OK)
            {
                using var json = JsonDocument.Parse(outcome.Body);
                var error = json.RootElement.GetProperty("error");
                Assert.Equal(JsonValueKind.String, error.GetProperty("code").ValueKind);
                Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
            }
        }
    }

    /// <summary>
    /// Waits until the recorder has taken <paramref name="expected"/> events and written them, then asserts the journal
    /// holds exactly one event per user agent of <paramref name="userAgents"/>, nothing was dropped and nothing escaped as an unhandled exception.
    /// </summary>
    public async Task AssertJournalCompleteAsync(IReadOnlyCollection<string> userAgents)
    {
        await GatewayHttp.EventuallyAsync(() => Recorder.EnqueuedCount + Recorder.DroppedCount >= userAgents.Count, TimeSpan.FromSeconds(30));
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await Recorder.FlushAsync(cts.Token);
        }

        Assert.Equal(0, Recorder.DroppedCount);
        var recorded = AuditScenario.ReadJournalEvents(Recorder.JournalDirectory).Select(AuditScenario.UserAgentOf).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(userAgents.Order(StringComparer.Ordinal).ToList(), recorded);
        Assert.DoesNotContain(Logs.Messages, m => m.Contains("[9001]", StringComparison.Ordinal));
    }

    /// <summary>A plain request succeeds again and readiness is 200: the gateway recovered without a restart.</summary>
    public async Task AssertServingAsync(string userAgent)
    {
        var outcome = await SendAsync(Chat(), userAgent);
        Assert.Equal(HttpStatusCode.OK, outcome.Status);
        using var client = Gateway.CreateClient();
        using var ready = await client.GetAsync("healthz/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Simulator.DisposeAsync();
        await Issuer.DisposeAsync();
    }
}

internal sealed record Outcome(HttpStatusCode Status, string Body, bool Broken, string? MediaType);
