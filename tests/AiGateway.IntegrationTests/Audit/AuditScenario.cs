using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AiGateway.Audit;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using AiGateway.Tests.Common.Otlp;
using LlmSimulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiGateway.IntegrationTests.Audit;

/// <summary>
/// A real gateway with its OIDC issuer, an upstream simulator, an optional real OTLP receiver and a log capture:
/// what the audit tests observe (the journal on disk, the OTLP records, every log message).
/// </summary>
internal sealed class AuditScenario : IAsyncDisposable
{
    private AuditScenario(TestOidcIssuer issuer, SimulatorServer simulator, OtlpLogReceiver? receiver, TestGateway gateway, CapturingLoggerProvider logs)
    {
        Issuer = issuer;
        Simulator = simulator;
        Receiver = receiver;
        Gateway = gateway;
        Logs = logs;
        EngineerToken = issuer.Token().Roles("engineer").Name("Erin Engineer").PreferredUsername("erin@alpha.example").Build();
        AnalystToken = issuer.Token().Roles("analyst").Build();
    }

    public TestOidcIssuer Issuer { get; }

    public SimulatorServer Simulator { get; }

    public OtlpLogReceiver? Receiver { get; }

    public TestGateway Gateway { get; }

    public CapturingLoggerProvider Logs { get; }

    public string EngineerToken { get; }

    public string AnalystToken { get; }

    internal AuditRecorder Recorder => Gateway.App.Services.GetRequiredService<AuditRecorder>();

    public string JournalDirectory => Recorder.JournalDirectory;

    /// <param name="audit">The gateway's <c>audit</c> section without <c>otlp</c> (added when <paramref name="otlp"/>).</param>
    /// <param name="agencyAudit">The agency's <c>audit</c> section, or null for the default (fail-closed).</param>
    public static async Task<AuditScenario> StartAsync(bool otlp = true, string audit = "", string? agencyAudit = null, string extraProviders = "", string extraModels = "", long maxBodyBytes = 8388608, string? otlpEndpoint = null, string[]? gatewayArgs = null)
    {
        var issuer = await TestOidcIssuer.StartAsync();
        var simulator = await SimulatorServer.StartAsync();
        var receiver = otlp && otlpEndpoint is null ? await OtlpLogReceiver.StartAsync() : null;
        try
        {
            var otlpSection = otlp
                ? "\"otlp\": { \"endpoint\": " + ConfigJson.Quote(otlpEndpoint ?? receiver!.BaseAddress.AbsoluteUri) + ", \"protocol\": \"http/protobuf\", \"exportIntervalMilliseconds\": 100 }"
                : string.Empty;
            var auditJson = "{ " + string.Join(", ", new[] { audit, otlpSection }.Where(s => s.Length > 0)) + " }";
            extraProviders = extraProviders.Replace("{SIM}", simulator.BaseAddress.AbsoluteUri, StringComparison.Ordinal);
            var gatewayJson = ConfigJson.Gateway(simulator.BaseAddress, extraModels: extraModels, extraProviders: extraProviders, maxBodyBytes: maxBodyBytes);
            gatewayJson = "{ \"audit\": " + auditJson + "," + gatewayJson.TrimStart()[1..];
            var agency = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer), extra: agencyAudit is null ? string.Empty : ", \"audit\": " + agencyAudit);
            var gateway = await TestGateway.StartAsync(gatewayJson, new Dictionary<string, string> { ["alpha"] = agency }, "Production", ["--Logging:LogLevel:Default", "Trace", .. gatewayArgs ?? []]);
            var logs = new CapturingLoggerProvider();
            gateway.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
            return new AuditScenario(issuer, simulator, receiver, gateway, logs);
        }
        catch
        {
            if (receiver is not null)
            {
                await receiver.DisposeAsync();
            }

            await simulator.DisposeAsync();
            await issuer.DisposeAsync();
            throw;
        }
    }

    public static string Chat(string model, string content, bool stream = false) =>
        $$"""{"model":{{ConfigJson.Quote(model)}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":{{ConfigJson.Quote(content)}}}]}""";

    /// <summary>POSTs to the gateway with a user agent that names the case (it comes back in the audit event).</summary>
    public async Task<HttpResponseMessage> PostAsync(string path, string body, string? token, string userAgent, params (string Name, string Value)[] headers)
    {
        using var client = Gateway.CreateClient(token);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.UserAgent.ParseAdd(userAgent);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>Waits until <paramref name="count"/> events were queued (the middleware records after the response) and written.</summary>
    public async Task WaitForJournalAsync(long count)
    {
        await GatewayHttp.EventuallyAsync(() => Recorder.EnqueuedCount + Recorder.DroppedCount >= count, TimeSpan.FromSeconds(30));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Recorder.FlushAsync(cts.Token);
    }

    /// <summary>The OCSF events in the journal, in order.</summary>
    public List<JsonElement> ReadJournalEvents() => ReadJournalEvents(JournalDirectory);

    public static List<JsonElement> ReadJournalEvents(string directory)
    {
        var events = new List<JsonElement>();
        foreach (var file in AuditJournal.ListFiles(directory))
        {
            foreach (var line in File.ReadAllLines(file))
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("event", out var e))
                {
                    events.Add(e.Clone());
                }
            }
        }

        return events;
    }

    public static string UserAgentOf(JsonElement ocsf) => ocsf.GetProperty("http_request").GetProperty("user_agent").GetString()!;

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        if (Receiver is not null)
        {
            await Receiver.DisposeAsync();
        }

        await Simulator.DisposeAsync();
        await Issuer.DisposeAsync();
    }
}
