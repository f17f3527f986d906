using System.Diagnostics;
using System.Net;
using System.Text;
using AiGateway.Audit;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace AiGateway.IntegrationTests.Audit;

/// <summary>Delivery guarantees: journal independent of the collector, fail-closed/fail-open, no prompt text or secrets anywhere, trace context kept from vendors.</summary>
public sealed class AuditDeliveryTests
{
    [Fact]
    public async Task Otlp_collector_down_leaves_the_journal_complete()
    {
        var closed = new Uri($"http://127.0.0.1:{FreePort.Get()}/");
        await using var s = await AuditScenario.StartAsync(otlpEndpoint: closed.AbsoluteUri);
        const int N = 10;
        for (var i = 0; i < N; i++)
        {
            using var response = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Hello"), s.EngineerToken, "collector-down-" + i);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await s.WaitForJournalAsync(N);
        Assert.Equal(N, s.ReadJournalEvents().Count);
        Assert.Equal(0, s.Recorder.DroppedCount);
        Assert.True(s.Recorder.IsAvailable);
    }

    [Fact]
    public async Task The_writer_exports_within_the_flush_window_and_fsyncs_the_batch_at_its_end_or_at_shutdown()
    {
        // The writer takes events as they arrive during the window (serialises, exports, appends) instead of doing the
        // whole batch's work at the end, in one CPU burst that the requests sharing the core would wait behind. With a
        // 10-s window the OTLP copy must leave long before the window ends while the journal still waits for it; the
        // host's stop ends the window early and loses nothing.
        await using var s = await AuditScenario.StartAsync(audit: "\"flushWindowMilliseconds\": 10000");
        var started = Stopwatch.GetTimestamp();
        using (var response = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Hello"), s.EngineerToken, "window-1"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await s.Receiver!.WaitForRecordsAsync(1, TimeSpan.FromSeconds(30));
        var exported = Stopwatch.GetElapsedTime(started);
        Assert.True(exported < TimeSpan.FromSeconds(5), $"exported over OTLP after {exported.TotalSeconds:0.0} s of a 10-s flush window");
        Assert.Equal(0, s.Recorder.RecordedCount);
        Assert.Empty(s.ReadJournalEvents());

        await s.Gateway.App.StopAsync();
        var journal = s.ReadJournalEvents();
        Assert.Equal("window-1", AuditScenario.UserAgentOf(Assert.Single(journal)));
        Assert.Equal(1, s.Recorder.RecordedCount);
    }

    [Fact]
    public async Task Fail_closed_agency_gets_503_while_the_journal_cannot_be_written()
    {
        // Tests run as root, so permissions do not stop writes: a regular file where a directory must be does.
        var blocker = Path.Combine(Path.GetTempPath(), "aigw-audit-blocker-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(blocker, "not a directory");
        try
        {
            await using var s = await AuditScenario.StartAsync(otlp: false, audit: $"\"journalDirectory\": {ConfigJson.Quote(Path.Combine(blocker, "audit"))}");
            Assert.False(s.Recorder.IsAvailable);

            using var response = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Hello"), s.EngineerToken, "fail-closed");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var error = await GatewayCalls.ReadOpenAIErrorAsync(response);
            Assert.Equal("audit_unavailable", error.GetProperty("code").GetString());
            Assert.Empty(s.Simulator.ReceivedRequests);
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    public async Task Fail_open_agency_is_served_and_counted_while_the_journal_cannot_be_written()
    {
        var blocker = Path.Combine(Path.GetTempPath(), "aigw-audit-blocker-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(blocker, "not a directory");
        try
        {
            await using var s = await AuditScenario.StartAsync(otlp: false, audit: $"\"journalDirectory\": {ConfigJson.Quote(Path.Combine(blocker, "audit"))}", agencyAudit: """{ "onFailure": "fail-open" }""");

            using var response = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Hello"), s.EngineerToken, "fail-open");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Single(s.Simulator.ReceivedRequests);
            Assert.Contains(s.Logs.Messages, m => m.Contains("[6009]", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    public async Task Prompt_text_answer_text_bearer_tokens_and_provider_keys_appear_in_no_journal_otlp_payload_or_log()
    {
        using var key = new SecretFile("sk-provider-key-" + Guid.NewGuid().ToString("N"));
        await using var s = await AuditScenario.StartAsync(
            extraProviders: $$""", "keyed": { "api": "openai", "baseUrl": "http://127.0.0.1:1/", "apiKey": { "file": {{ConfigJson.Quote(key.Path)}} } }""");
        var marker = "PROMPT-MARKER-" + Guid.NewGuid().ToString("N");
        var traceparent = "00-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "-" + "1122334455667788" + "-01";

        using (var allowed = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", marker), s.EngineerToken, "no-text", ("traceparent", traceparent)))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using (var streamed = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", marker, stream: true), s.EngineerToken, "no-text-stream"))
        {
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        }

        using (var blocked = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "TOP SECRET//SI " + marker), s.EngineerToken, "no-text-blocked"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        }

        await s.WaitForJournalAsync(3);
        await s.Receiver!.WaitForRecordsAsync(3, TimeSpan.FromSeconds(30));
        Assert.True(s.Gateway.App.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        await s.Gateway.App.StopAsync();

        var journal = string.Concat(AuditJournal.ListFiles(s.JournalDirectory).Select(File.ReadAllText));
        var payloads = s.Receiver.Payloads;
        Assert.Contains(payloads, p => p.Path == "/v1/traces");
        var logs = s.Logs.Messages;
        Assert.NotEmpty(logs);

        foreach (var secret in (string[])[marker, s.EngineerToken, key.Secret, s.EngineerToken.Split('.')[2]])
        {
            var bytes = Encoding.UTF8.GetBytes(secret);
            Assert.DoesNotContain(secret, journal, StringComparison.Ordinal);
            Assert.All(payloads, p => Assert.True(p.Payload.AsSpan().IndexOf(bytes) < 0, $"found in OTLP {p.Path}"));
            Assert.All(s.Receiver.Records, r => Assert.DoesNotContain(secret, r.Body ?? string.Empty, StringComparison.Ordinal));
            Assert.All(logs, m => Assert.DoesNotContain(secret, m, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Trace_context_is_not_sent_to_upstream_vendors_unless_the_provider_opts_in()
    {
        await using var s = await AuditScenario.StartAsync(
            extraProviders: """, "traced": { "api": "openai", "baseUrl": "{SIM}", "propagateTraceContext": true }""",
            extraModels: """, "traced-model": { "ceiling": "UNCLASSIFIED", "deployments": [{ "provider": "traced" }] }""");
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var traceparent = $"00-{traceId}-1122334455667788-01";

        using var response = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Hello"), s.EngineerToken, "trace", ("traceparent", traceparent));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstream = Assert.Single(s.Simulator.ReceivedRequests);
        Assert.False(upstream.Headers.Keys.Any(h => h.Equals("traceparent", StringComparison.OrdinalIgnoreCase) || h.Equals("tracestate", StringComparison.OrdinalIgnoreCase) || h.Equals("Request-Id", StringComparison.OrdinalIgnoreCase)), string.Join("; ", upstream.Headers.Select(h => h.Key + "=" + h.Value)));
        Assert.DoesNotContain(upstream.Headers.Keys, h => h.Equals("traceparent", StringComparison.OrdinalIgnoreCase) || h.Equals("tracestate", StringComparison.OrdinalIgnoreCase) || h.Equals("Request-Id", StringComparison.OrdinalIgnoreCase));

        // The audit event still carries the caller's trace id.
        await s.WaitForJournalAsync(1);
        var e = Assert.Single(s.ReadJournalEvents());
        Assert.Equal(traceId, e.GetProperty("unmapped").GetProperty("trace_id").GetString());

        // A provider that opts in receives the trace context.
        s.Simulator.ClearReceived();
        using var traced = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("traced-model", "Hello"), s.EngineerToken, "traced", ("traceparent", traceparent));
        Assert.Equal(HttpStatusCode.OK, traced.StatusCode);
        var tracedUpstream = Assert.Single(s.Simulator.ReceivedRequests);
        var header = Assert.Single(tracedUpstream.Headers, h => h.Key.Equals("traceparent", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(traceId, header.Value, StringComparison.Ordinal);
    }
}
