using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using AiGateway.Audit;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.IntegrationTests.Audit;

/// <summary>
/// One audit event per request, whatever the outcome, received by a real OTLP/HTTP receiver (protobuf decoded)
/// and written to the hash-chained journal.
/// </summary>
public sealed class AuditEventTests
{
    private static string DeadUpstream(out string models)
    {
        models = """, "dead-model": { "ceiling": "UNCLASSIFIED", "deployments": [{ "provider": "dead" }] }""";
        return $$""", "dead": { "api": "openai", "baseUrl": "http://127.0.0.1:{{FreePort.Get()}}/" }""";
    }

    [Fact]
    public async Task Each_outcome_produces_exactly_one_OTLP_record_and_one_journal_record_with_its_fields()
    {
        var providers = DeadUpstream(out var models);
        await using var s = await AuditScenario.StartAsync(extraProviders: providers, extraModels: models, maxBodyBytes: 4096);

        var cases = new (string Agent, HttpStatusCode Status, Func<Task<HttpResponseMessage>> Send)[]
        {
            ("case-allowed", HttpStatusCode.OK, () => s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Say hello"), s.EngineerToken, "case-allowed")),
            ("case-401", HttpStatusCode.Unauthorized, () => s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Say hello"), null, "case-401")),
            ("case-403-model", HttpStatusCode.Forbidden, () => s.PostAsync("v1/chat/completions", AuditScenario.Chat("secure-llm", "Say hello"), s.AnalystToken, "case-403-model")),
            ("case-403-classified", HttpStatusCode.Forbidden, () => s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "SECRET//NOFORN\nSummarise the plan."), s.EngineerToken, "case-403-classified")),
            ("case-404", HttpStatusCode.NotFound, () => s.PostAsync("v1/chat/completions", AuditScenario.Chat("no-such-model", "Say hello"), s.EngineerToken, "case-404")),
            ("case-413", HttpStatusCode.RequestEntityTooLarge, () => s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", new string('x', 6000)), s.EngineerToken, "case-413")),
            ("case-502", HttpStatusCode.BadGateway, () => s.PostAsync("v1/chat/completions", AuditScenario.Chat("dead-model", "Say hello"), s.EngineerToken, "case-502")),
        };
        foreach (var (agent, status, send) in cases)
        {
            using var response = await send();
            Assert.True(status == response.StatusCode, $"{agent}: expected {(int)status}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        await s.WaitForJournalAsync(cases.Length);
        var otlp = await s.Receiver!.WaitForRecordsAsync(cases.Length, TimeSpan.FromSeconds(30));
        var journal = s.ReadJournalEvents();
        Assert.Equal(cases.Length, journal.Count);

        foreach (var (agent, status, _) in cases)
        {
            var record = Assert.Single(otlp, r => r.Body!.Contains($"\"user_agent\":\"{agent}\"", StringComparison.Ordinal));
            Assert.Equal("ocsf.api_activity", record.Attributes["event.name"]);
            Assert.Equal("6003", record.Attributes["ocsf.class_uid"]);
            Assert.Equal(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), record.Attributes["http.response.status_code"]);
            using var body = JsonDocument.Parse(record.Body!);
            var fromJournal = Assert.Single(journal, e => AuditScenario.UserAgentOf(e) == agent);
            Assert.Equal(fromJournal.GetProperty("metadata").GetProperty("uid").GetString(), body.RootElement.GetProperty("metadata").GetProperty("uid").GetString());
            AssertCommonShape(body.RootElement, (int)status);
        }

        var allowed = Event(journal, "case-allowed");
        Assert.Equal(1, allowed.GetProperty("status_id").GetInt32());
        Assert.Equal(1, allowed.GetProperty("activity_id").GetInt32());
        Assert.Equal(600301, allowed.GetProperty("type_uid").GetInt32());
        Assert.Equal("POST chat.completions gpt-4o-mini: allowed", allowed.GetProperty("message").GetString());
        var user = allowed.GetProperty("actor").GetProperty("user");
        Assert.Equal("erin@alpha.example", user.GetProperty("name").GetString());
        Assert.Equal("Erin Engineer", user.GetProperty("full_name").GetString());
        Assert.Equal("alpha", user.GetProperty("org").GetProperty("uid").GetString());
        Assert.Equal("engineer", allowed.GetProperty("actor").GetProperty("authorizations")[0].GetProperty("policy").GetProperty("name").GetString());
        Assert.Equal("127.0.0.1", allowed.GetProperty("src_endpoint").GetProperty("ip").GetString());
        Assert.Equal("chat.completions", allowed.GetProperty("api").GetProperty("operation").GetString());
        Assert.Equal("sim", allowed.GetProperty("api").GetProperty("service").GetProperty("name").GetString());
        var u = allowed.GetProperty("unmapped");
        Assert.Equal("allowed", u.GetProperty("decision").GetString());
        Assert.Equal("alpha", u.GetProperty("agency").GetString());
        Assert.Equal("person", u.GetProperty("caller_kind").GetString());
        Assert.Equal("engineer", u.GetProperty("granting_role").GetString());
        Assert.Equal("openai", u.GetProperty("dialect").GetString());
        Assert.Equal("gpt-4o-mini", u.GetProperty("requested_model").GetString());
        Assert.Equal("sim", u.GetProperty("upstream").GetProperty("provider").GetString());
        Assert.Equal("0:sim", u.GetProperty("upstream").GetProperty("destination_id").GetString());
        Assert.Equal(1, u.GetProperty("upstream").GetProperty("attempts").GetInt32());
        Assert.False(u.GetProperty("stream").GetBoolean());
        Assert.Equal(JsonValueKind.Null, u.GetProperty("estimated_cost_usd").ValueKind);
        Assert.True(u.GetProperty("durations_ms").GetProperty("total").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Number, u.GetProperty("durations_ms").GetProperty("upstream").ValueKind);
        Assert.Equal(JsonValueKind.Number, u.GetProperty("durations_ms").GetProperty("time_to_first_byte").ValueKind);
        Assert.Equal(32, u.GetProperty("trace_id").GetString()!.Length);
        Assert.Equal(u.GetProperty("trace_id").GetString(), allowed.GetProperty("metadata").GetProperty("correlation_uid").GetString());

        var unauthenticated = Event(journal, "case-401");
        Assert.Equal("missing_token", unauthenticated.GetProperty("status_code").GetString());
        Assert.Equal("denied", unauthenticated.GetProperty("unmapped").GetProperty("decision").GetString());
        Assert.Equal(0, unauthenticated.GetProperty("actor").GetProperty("user").GetProperty("type_id").GetInt32());

        var notPermitted = Event(journal, "case-403-model");
        Assert.Equal("model_not_permitted", notPermitted.GetProperty("unmapped").GetProperty("reason_code").GetString());
        Assert.StartsWith("POST chat.completions ", notPermitted.GetProperty("message").GetString());
        Assert.EndsWith(": denied", notPermitted.GetProperty("message").GetString());
        Assert.Equal("Denied", notPermitted.GetProperty("actor").GetProperty("authorizations")[0].GetProperty("decision").GetString());
        Assert.Equal(JsonValueKind.Null, notPermitted.GetProperty("unmapped").GetProperty("upstream").ValueKind);

        var classified = Event(journal, "case-403-classified");
        Assert.Equal("classified_content_blocked", classified.GetProperty("status_code").GetString());
        Assert.Equal(4, classified.GetProperty("severity_id").GetInt32());
        var prompt = classified.GetProperty("unmapped").GetProperty("markings").GetProperty("prompt");
        Assert.Equal("blocked", classified.GetProperty("unmapped").GetProperty("decision").GetString());
        Assert.Equal("blocked", prompt.GetProperty("decision").GetString());
        Assert.Equal("SECRET", prompt.GetProperty("highest_level").GetString());
        Assert.Equal("UNCLASSIFIED", prompt.GetProperty("effective_ceiling").GetString());
        var finding = prompt.GetProperty("findings")[0];
        Assert.Equal("SECRET", finding.GetProperty("level").GetString());
        Assert.True(finding.GetProperty("count").GetInt32() >= 1);
        Assert.False(string.IsNullOrEmpty(finding.GetProperty("kind").GetString()));

        Assert.Equal("model_not_found", Event(journal, "case-404").GetProperty("status_code").GetString());
        Assert.Equal("request_too_large", Event(journal, "case-413").GetProperty("status_code").GetString());

        var upstream = Event(journal, "case-502");
        Assert.Equal("upstream_error", upstream.GetProperty("unmapped").GetProperty("decision").GetString());
        Assert.Equal("upstream_unreachable", upstream.GetProperty("status_code").GetString());
        Assert.Equal("dead", upstream.GetProperty("unmapped").GetProperty("upstream").GetProperty("provider").GetString());
    }

    [Fact]
    public async Task Concurrent_requests_each_produce_one_record_and_the_journal_verifies_in_process_and_with_the_audit_verify_command()
    {
        await using var s = await AuditScenario.StartAsync(otlp: false);
        const int N = 40;
        var responses = await Task.WhenAll(Enumerable.Range(0, N).Select(i =>
            s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Hello " + i), s.EngineerToken, "concurrent-" + i)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        await s.WaitForJournalAsync(N);
        var events = s.ReadJournalEvents();
        Assert.Equal(N, events.Count);
        Assert.Equal(N, events.Select(AuditScenario.UserAgentOf).Distinct().Count());
        Assert.Equal(N, events.Select(e => e.GetProperty("metadata").GetProperty("uid").GetString()).Distinct().Count());

        var key = File.ReadAllText(Path.Combine(s.Gateway.DataDirectory, AuditSigningKey.GeneratedFileName));
        var live = AuditJournalVerifier.Verify(s.JournalDirectory, AuditJournalVerifier.KeyBytes(key), allowUnsealedTail: true);
        Assert.True(live.Intact, live.ToString());
        Assert.True(live.SignaturesChecked);
        Assert.Equal(N, live.Events);

        // Stopping drains and seals: the strict check (journal must end with a checkpoint) passes, through the command.
        await s.Gateway.App.StopAsync();
        var sealedResult = AuditJournalVerifier.Verify(s.JournalDirectory, AuditJournalVerifier.KeyBytes(key));
        Assert.True(sealedResult.Intact, sealedResult.ToString());
        var (exit, stdout, stderr) = await RunVerifyCommandAsync(s.JournalDirectory);
        Assert.True(exit == 0, $"exit {exit}: {stdout} {stderr}");
        Assert.Contains("signatures verified", stdout, StringComparison.Ordinal);

        // One edited line: the command names the file and line.
        var file = AuditJournal.ListFiles(s.JournalDirectory)[0];
        var lines = File.ReadAllLines(file);
        lines[3] = lines[3].Replace("concurrent-", "concurrenT-", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(file, lines);
        (exit, stdout, stderr) = await RunVerifyCommandAsync(s.JournalDirectory);
        Assert.Equal(1, exit);
        Assert.Contains($"{Path.GetFileName(file)}:4:", stderr, StringComparison.Ordinal);
    }

    /// <summary>Runs the built gateway binary's <c>audit verify</c> sub-command (what <c>dotnet run --project src/AiGateway -- audit verify</c> runs).</summary>
    private static async Task<(int Exit, string Stdout, string Stderr)> RunVerifyCommandAsync(string directory)
    {
        var assembly = typeof(AuditRecorder).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("audit");
        start.ArgumentList.Add("verify");
        start.ArgumentList.Add(directory);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    private static JsonElement Event(List<JsonElement> journal, string agent) => Assert.Single(journal, e => AuditScenario.UserAgentOf(e) == agent);

    private static void AssertCommonShape(JsonElement e, int status)
    {
        Assert.Equal(6003, e.GetProperty("class_uid").GetInt32());
        Assert.Equal(6, e.GetProperty("category_uid").GetInt32());
        Assert.True(e.GetProperty("time").GetInt64() > 1_600_000_000_000);
        Assert.Equal(status, e.GetProperty("http_response").GetProperty("code").GetInt32());
        Assert.Equal("AiGateway", e.GetProperty("metadata").GetProperty("product").GetProperty("name").GetString());
        Assert.Equal("POST", e.GetProperty("http_request").GetProperty("http_method").GetString());
        Assert.True(e.TryGetProperty("cloud", out _));
        Assert.True(e.TryGetProperty("unmapped", out _));
        Assert.Equal(status == 200 ? 1 : 2, e.GetProperty("status_id").GetInt32());
    }
}
