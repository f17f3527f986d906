using System.Net;
using AiGateway.IntegrationTests.Infrastructure;

namespace AiGateway.IntegrationTests.Faults;

/// <summary>
/// Upstream faults under concurrent load. The single-request cases are in Forwarding/ErrorResponseTests and
/// Forwarding/FailoverTests; these add load, the journal check (one event per request, none dropped) and recovery.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class UpstreamFaultTests
{
    private const int Requests = 24;
    private const int Parallel = 8;

    public static TheoryData<string, bool, HttpStatusCode[]> Faults() => new()
    {
        // directives, streamed, the clean error statuses allowed besides 200 (none: every request must succeed)
        { "\"delay_ms\": 300", false, [] },
        { "\"chunks\": 10, \"chunk_delay_ms\": 30", true, [] },
        { "\"fault\": \"reset\"", false, [HttpStatusCode.BadGateway] },
        { "\"fault\": \"reset\"", true, [HttpStatusCode.BadGateway] },
        { "\"fault\": \"reset_mid_stream\"", true, [HttpStatusCode.BadGateway] },
        { "\"fault\": \"reset_mid_stream\"", false, [HttpStatusCode.BadGateway] },
        { "\"fault\": \"garbage_sse\"", true, [HttpStatusCode.BadGateway] },
        { "\"fault\": \"garbage_sse\"", false, [HttpStatusCode.BadGateway] },
        { "\"status\": 429, \"retry_after\": 1", false, [HttpStatusCode.TooManyRequests] },
        { "\"status\": 503", true, [HttpStatusCode.ServiceUnavailable, HttpStatusCode.BadGateway] },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task Upstream_fault_under_load_gives_clean_answers_loses_no_audit_event_and_recovers(string directives, bool stream, HttpStatusCode[] allowed)
    {
        await using var s = await FaultScenario.StartAsync(forwarding: """{ "maxAttempts": 2, "upstreamTimeoutSeconds": 10, "unhealthyPeriodSeconds": 1 }""");
        var agents = Enumerable.Range(0, Requests).Select(i => "fault-" + i).ToList();

        var outcomes = await FaultScenario.LoadAsync(Requests, Parallel, i => s.SendAsync(FaultScenario.Chat(stream, directives), agents[i]));

        // Streams broken after the first byte reach the client truncated (status already sent): never a 500, never retried.
        FaultScenario.AssertCleanErrors(outcomes.Where(o => !o.Broken), allowed);
        Assert.All(outcomes.Where(o => o.Broken), o => Assert.Equal(HttpStatusCode.OK, o.Status));
        if (allowed.Length == 0)
        {
            Assert.All(outcomes, o => Assert.False(o.Broken));
        }

        if (directives.Contains("reset", StringComparison.Ordinal))
        {
            // A cut answer is never passed off as a complete one.
            Assert.DoesNotContain(outcomes, o => o.Status == HttpStatusCode.OK && !o.Broken && o.Body.Contains("[DONE]", StringComparison.Ordinal));
        }

        await s.AssertServingAsync("after-fault");
        await s.AssertJournalCompleteAsync([.. agents, "after-fault"]);
    }

    [Fact]
    public async Task Storm_of_429s_with_retry_after_parks_the_deployment_and_the_gateway_answers_429_not_500()
    {
        await using var s = await FaultScenario.StartAsync(forwarding: """{ "maxAttempts": 3, "upstreamTimeoutSeconds": 10, "unhealthyPeriodSeconds": 1 }""");
        var agents = Enumerable.Range(0, 60).Select(i => "storm-" + i).ToList();

        var outcomes = await FaultScenario.LoadAsync(agents.Count, 12, i => s.SendAsync(FaultScenario.Chat(false, "\"status\": 429, \"retry_after\": 1"), agents[i]));

        FaultScenario.AssertCleanErrors(outcomes, HttpStatusCode.TooManyRequests, HttpStatusCode.ServiceUnavailable);
        Assert.DoesNotContain(outcomes, o => o.Status == HttpStatusCode.OK);
        // Parked deployments are not hammered: fewer upstream calls than requests × attempts.
        Assert.True(s.Simulator.ReceivedRequests.Count < agents.Count * 3, $"{s.Simulator.ReceivedRequests.Count} upstream calls for {agents.Count} requests");

        // Retry-After 1 s elapses; the deployment comes back on its own.
        Outcome? recovered = null;
        for (var attempt = 0; attempt < 100 && recovered?.Status != HttpStatusCode.OK; attempt++)
        {
            recovered = await s.SendAsync(FaultScenario.Chat(), "recover-" + attempt);
            agents.Add("recover-" + attempt);
            if (recovered.Status != HttpStatusCode.OK)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(HttpStatusCode.OK, recovered!.Status);
        await s.AssertJournalCompleteAsync(agents);
    }

    [Fact]
    public async Task Clients_aborting_streams_under_load_release_their_concurrency_leases_and_are_each_audited()
    {
        // Two concurrent requests per caller: leaked leases would block the requests after the aborts.
        await using var s = await FaultScenario.StartAsync(agencyExtra: """, "limits": { "perCaller": { "concurrentRequests": 2 } }""");
        var agents = Enumerable.Range(0, 12).Select(i => "abort-" + i).ToList();

        // Waves of two aborted streams; each wave ends when both are audited (the lease is committed before that).
        for (var wave = 0; wave < agents.Count; wave += 2)
        {
            await FaultScenario.LoadAsync(2, 2, async i =>
            {
                using var client = s.Gateway.CreateClient(s.Token);
                using var request = GatewayHttp.Post("v1/chat/completions", FaultScenario.Chat(true, "\"chunks\": 50, \"chunk_delay_ms\": 50"));
                request.Headers.UserAgent.ParseAdd(agents[wave + i]);
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var stream = await response.Content.ReadAsStreamAsync();
                Assert.True(await stream.ReadAsync(new byte[256]) > 0);
                return new Outcome(response.StatusCode, string.Empty, Broken: true, null); // disposed mid-stream
            });
            var done = wave + 2;
            await GatewayHttp.EventuallyAsync(() => s.Recorder.EnqueuedCount >= done, TimeSpan.FromSeconds(30));
        }

        // No lease leaked: the caller may again run two at once.
        var after = await FaultScenario.LoadAsync(2, 2, i => s.SendAsync(FaultScenario.Chat(), "after-abort-" + i));
        agents.AddRange(["after-abort-0", "after-abort-1"]);
        Assert.All(after, o => Assert.Equal(HttpStatusCode.OK, o.Status));
        await s.AssertJournalCompleteAsync(agents);
    }
}
