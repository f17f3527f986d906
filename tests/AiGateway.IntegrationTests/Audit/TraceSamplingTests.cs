using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace AiGateway.IntegrationTests.Audit;

/// <summary>
/// Trace sampling against the audit. Alone, not in parallel with other classes: activity sources are process-wide, so
/// the tracer provider of a gateway another test runs at the same time would sample this test's requests (the most
/// permissive listener decides) and every provider, this gateway's included, would then export them.
/// </summary>
[Collection(TraceSamplingCollection.Name)]
public sealed class TraceSamplingTests
{
    [Fact]
    public async Task The_standard_trace_sampler_setting_thins_traces_never_the_audit()
    {
        // Operators sample traces with OpenTelemetry's own OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (environment or
        // configuration); the audit record of every request, with its trace id, does not depend on it.
        await using var s = await AuditScenario.StartAsync(gatewayArgs: ["--OTEL_TRACES_SAMPLER", "always_off"]);
        for (var i = 0; i < 3; i++)
        {
            using var response = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "hello"), s.EngineerToken, "sampled-" + i);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await s.WaitForJournalAsync(3);
        await s.Receiver!.WaitForRecordsAsync(3, TimeSpan.FromSeconds(30));
        Assert.True(s.Gateway.App.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        await s.Gateway.App.StopAsync();

        var traceIds = s.ReadJournalEvents().Select(e => e.GetProperty("metadata").GetProperty("correlation_uid").GetString()).ToList();
        Assert.Equal(3, traceIds.Count);
        Assert.All(traceIds, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.Equal(3, traceIds.Distinct().Count());

        // None of these requests' spans was exported (a span carries its trace id as 16 raw bytes).
        foreach (var id in traceIds)
        {
            var raw = Convert.FromHexString(id!);
            Assert.All(s.Receiver.Payloads.Where(p => p.Path == "/v1/traces"), p => Assert.True(p.Payload.AsSpan().IndexOf(raw) < 0, $"trace {id} exported"));
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TraceSamplingCollection
{
    public const string Name = "Trace sampling (not parallel)";
}
