using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using AiGateway.Audit;
using AiGateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace AiGateway.IntegrationTests.Audit;

/// <summary>The opt-in content journal (agency <c>audit.captureContent</c>): prompt and answer text kept apart from the audit trail.</summary>
public sealed class AuditContentTests
{
    [Fact]
    public async Task Captured_content_is_only_in_the_content_journal_keyed_by_the_audit_event_id_and_it_verifies()
    {
        await using var s = await AuditScenario.StartAsync(agencyAudit: """{ "onFailure": "fail-closed", "captureContent": true }""");
        var promptMarker = "PROMPT-MARKER-" + Guid.NewGuid().ToString("N");
        var answerMarker = "ANSWER-MARKER-" + Guid.NewGuid().ToString("N");
        s.Simulator.Options.Reply = "Here it is: " + answerMarker;

        using (var json = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", promptMarker), s.EngineerToken, "content-json"))
        {
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        }

        using (var streamed = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", promptMarker, stream: true), s.EngineerToken, "content-stream"))
        {
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        }

        await s.WaitForJournalAsync(2);
        await s.Receiver!.WaitForRecordsAsync(2, TimeSpan.FromSeconds(30));
        Assert.True(s.Gateway.App.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        var contentDirectory = s.Recorder.ContentJournalDirectory;
        Assert.Equal(s.JournalDirectory + "-content", contentDirectory);
        await s.Gateway.App.StopAsync();

        // One content record per request, joined to its audit event by the event id.
        var events = s.ReadJournalEvents();
        var content = AuditScenario.ReadJournalEvents(contentDirectory);
        Assert.Equal(2, content.Count);
        foreach (var agent in (string[])["content-json", "content-stream"])
        {
            var uid = Assert.Single(events, e => AuditScenario.UserAgentOf(e) == agent).GetProperty("metadata").GetProperty("uid").GetString();
            var record = Assert.Single(content, c => c.GetProperty("event_uid").GetString() == uid);
            Assert.Equal("alpha", record.GetProperty("agency").GetString());
            var segment = Assert.Single(record.GetProperty("prompt").EnumerateArray(), p => p.GetProperty("text").GetString() == promptMarker);
            Assert.Equal("message", segment.GetProperty("source").GetString());
            Assert.Equal(0, segment.GetProperty("message").GetInt32());
            Assert.Equal("user", segment.GetProperty("role").GetString());
            var answer = record.GetProperty("answer");
            Assert.Contains(answerMarker, answer.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.False(answer.GetProperty("truncated").GetBoolean());
        }

        // The text is nowhere else: not in the audit journal, the OTLP export or the logs.
        var journal = string.Concat(AuditJournal.ListFiles(s.JournalDirectory).Select(File.ReadAllText));
        var payloads = s.Receiver.Payloads;
        Assert.NotEmpty(payloads);
        var logs = s.Logs.Messages;
        Assert.NotEmpty(logs);
        foreach (var secret in (string[])[promptMarker, answerMarker])
        {
            var bytes = Encoding.UTF8.GetBytes(secret);
            Assert.DoesNotContain(secret, journal, StringComparison.Ordinal);
            Assert.All(payloads, p => Assert.True(p.Payload.AsSpan().IndexOf(bytes) < 0, $"found in OTLP {p.Path}"));
            Assert.All(s.Receiver.Records, r => Assert.DoesNotContain(secret, r.Body ?? string.Empty, StringComparison.Ordinal));
            Assert.All(logs, m => Assert.DoesNotContain(secret, m, StringComparison.Ordinal));
        }

        // Same integrity as the audit journal: chain and signed checkpoints, sealed at shutdown, checked by `audit verify`.
        var key = File.ReadAllText(Path.Combine(s.Gateway.DataDirectory, AuditSigningKey.GeneratedFileName));
        var verified = AuditJournalVerifier.Verify(contentDirectory, AuditJournalVerifier.KeyBytes(key));
        Assert.True(verified.Intact, verified.ToString());
        Assert.True(verified.SignaturesChecked);
        Assert.Equal(2, verified.Events);
        var (exit, stdout, stderr) = await RunVerifyCommandAsync(contentDirectory);
        Assert.True(exit == 0, $"exit {exit}: {stdout} {stderr}");
        Assert.Contains("signatures verified", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_captureContent_no_content_journal_is_written()
    {
        await using var s = await AuditScenario.StartAsync(otlp: false);
        var marker = "PROMPT-MARKER-" + Guid.NewGuid().ToString("N");
        s.Simulator.Options.Reply = marker;

        using (var response = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", marker), s.EngineerToken, "no-content"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await s.WaitForJournalAsync(1);
        await s.Gateway.App.StopAsync();

        Assert.Single(s.ReadJournalEvents());
        Assert.False(Directory.Exists(s.Recorder.ContentJournalDirectory));
        var journal = string.Concat(AuditJournal.ListFiles(s.JournalDirectory).Select(File.ReadAllText));
        Assert.DoesNotContain(marker, journal, StringComparison.Ordinal);
        Assert.All(s.Logs.Messages, m => Assert.DoesNotContain(marker, m, StringComparison.Ordinal));
    }

    [Fact]
    public void CaptureContent_is_off_by_default_and_a_non_boolean_is_reported_with_file_and_path()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aigw-auditcontent-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "agencies"));
        try
        {
            File.WriteAllText(Path.Combine(dir, "gateway.json"), """
                {
                  "providers": { "sim": { "api": "openai", "baseUrl": "http://127.0.0.1:9/" } },
                  "models": { "m": { "ceiling": "UNCLASSIFIED", "deployments": [{ "provider": "sim" }] } }
                }
                """);
            var agency = Path.Combine(dir, "agencies", "alpha.json");
            void WriteAgency(string audit) => File.WriteAllText(agency, """{ "name": "alpha", "models": ["*"], "identity": { "providers": [{ "type": "dev" }] }, "roles": { "r": { "models": ["*"] } }, "audit": """ + audit + " }");

            WriteAgency("""{ "onFailure": "fail-open" }""");
            Assert.False(GatewayConfigLoader.Load(dir, isProduction: false).Agencies["alpha"].AuditCaptureContent);

            WriteAgency("""{ "captureContent": true }""");
            Assert.True(GatewayConfigLoader.Load(dir, isProduction: false).Agencies["alpha"].AuditCaptureContent);

            WriteAgency("""{ "captureContent": "yes" }""");
            var ex = Assert.Throws<ConfigValidationException>(() => GatewayConfigLoader.Load(dir, isProduction: false));
            Assert.Contains(ex.Errors, e => e.File == agency && e.Path == "$.audit.captureContent");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunVerifyCommandAsync(string directory)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(AuditRecorder).Assembly.Location);
        start.ArgumentList.Add("audit");
        start.ArgumentList.Add("verify");
        start.ArgumentList.Add(directory);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
