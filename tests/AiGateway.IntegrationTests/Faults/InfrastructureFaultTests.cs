using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;

namespace AiGateway.IntegrationTests.Faults;

/// <summary>
/// Faults of what the gateway depends on — Redis, the OTLP collector, the audit disk, the configuration files —
/// while requests are in flight. Single-request variants: RateLimiting/RateLimitTests (Redis_down_*),
/// Audit/AuditDeliveryTests (collector down, journal unwritable at start), Configuration/ConfigLoadingTests (hot reload).
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class InfrastructureFaultTests
{
    /// <summary>Runs <paramref name="count"/> requests; <paramref name="atHalf"/> runs once when half of them have been answered, while the rest are in flight.</summary>
    private static async Task<Outcome[]> LoadWithFaultAsync(FaultScenario s, List<string> agents, string prefix, int count, string directives, Func<Task> atHalf)
    {
        var answered = 0;
        var fault = new TaskCompletionSource();
        var start = agents.Count;
        agents.AddRange(Enumerable.Range(0, count).Select(i => prefix + i));
        var load = FaultScenario.LoadAsync(count, 6, async i =>
        {
            var outcome = await s.SendAsync(FaultScenario.Chat(false, directives), agents[start + i]);
            if (Interlocked.Increment(ref answered) == count / 2)
            {
                fault.TrySetResult();
            }

            return outcome;
        });
        await Task.WhenAny(fault.Task, load);
        await atHalf();
        return await load;
    }

    [Fact]
    public async Task Redis_killed_and_restarted_under_load_gives_503s_not_500s_and_recovers_without_a_restart()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var s = await FaultScenario.StartAsync(
            extraTopLevel: $$"""
                 "limitStore": { "type": "redis", "redis": {{ConfigJson.Quote(redis.ConnectionString)}}, "timeoutMilliseconds": 300, "breakSeconds": 1 },
                """,
            agencyExtra: """, "limits": { "perCaller": { "requestsPerMinute": 100000 }, "onStoreFailure": "fail-closed" }""");
        var agents = new List<string>();

        var during = await LoadWithFaultAsync(s, agents, "redis-kill-", 60, "\"delay_ms\": 100", redis.KillAsync);
        FaultScenario.AssertCleanErrors(during, HttpStatusCode.ServiceUnavailable);
        Assert.Contains(during, o => o.Status == HttpStatusCode.ServiceUnavailable);

        await redis.RestartAsync();
        var recovered = false;
        for (var attempt = 0; attempt < 100 && !recovered; attempt++)
        {
            var outcome = await s.SendAsync(FaultScenario.Chat(), "redis-back-" + attempt);
            agents.Add("redis-back-" + attempt);
            recovered = outcome.Status == HttpStatusCode.OK;
            if (!recovered)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(recovered, "the gateway did not use Redis again after it came back");
        var after = await FaultScenario.LoadAsync(20, 6, i => s.SendAsync(FaultScenario.Chat(), "redis-after-" + i));
        agents.AddRange(Enumerable.Range(0, 20).Select(i => "redis-after-" + i));
        Assert.All(after, o => Assert.Equal(HttpStatusCode.OK, o.Status));
        await s.AssertServingAsync("redis-final");
        await s.AssertJournalCompleteAsync([.. agents, "redis-final"]);
    }

    [Fact]
    public async Task Otlp_collector_down_under_load_serves_every_request_and_the_journal_is_complete()
    {
        var closed = new Uri($"http://127.0.0.1:{FreePort.Get()}/");
        await using var s = await FaultScenario.StartAsync(otlpEndpoint: closed.AbsoluteUri);
        var agents = Enumerable.Range(0, 60).Select(i => "otlp-down-" + i).ToList();

        var outcomes = await FaultScenario.LoadAsync(agents.Count, 10, i => s.SendAsync(FaultScenario.Chat(i % 2 == 0), agents[i]));

        Assert.All(outcomes, o => Assert.Equal(HttpStatusCode.OK, o.Status));
        await s.AssertServingAsync("otlp-final");
        await s.AssertJournalCompleteAsync([.. agents, "otlp-final"]);
    }

    [Fact]
    public async Task Agency_file_replaced_by_invalid_json_under_load_keeps_serving_with_the_last_good_config()
    {
        await using var s = await FaultScenario.StartAsync();
        var agents = new List<string>();
        var before = s.Gateway.ConfigStore.Current.Version;

        var outcomes = await LoadWithFaultAsync(s, agents, "bad-agency-", 40, "\"delay_ms\": 20",
            () => File.WriteAllTextAsync(Path.Combine(s.Gateway.ConfigDirectory, "agencies", "alpha.json"), "{ \"name\": \"alpha\", \"identity\": { trunc"));

        Assert.All(outcomes, o => Assert.Equal(HttpStatusCode.OK, o.Status));
        await GatewayHttp.EventuallyAsync(() => s.Gateway.ConfigStore.LastRejectedErrors is not null, TimeSpan.FromSeconds(30));
        Assert.Equal(before, s.Gateway.ConfigStore.Current.Version);

        var after = await FaultScenario.LoadAsync(20, 6, i => s.SendAsync(FaultScenario.Chat(), "bad-agency-after-" + i));
        agents.AddRange(Enumerable.Range(0, 20).Select(i => "bad-agency-after-" + i));
        Assert.All(after, o => Assert.Equal(HttpStatusCode.OK, o.Status));
        await s.AssertServingAsync("bad-agency-final");
        await s.AssertJournalCompleteAsync([.. agents, "bad-agency-final"]);
    }

    [Fact]
    public async Task Audit_disk_unwritable_refuses_fail_closed_requests_then_recovers_by_itself_with_every_event_journaled()
    {
        // Tests run as root, so permissions do not stop writes: a regular file where the journal's parent directory must be does.
        var parent = Path.Combine(Path.GetTempPath(), "aigw-audit-disk-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(parent, "not a directory");
        try
        {
            await using var s = await FaultScenario.StartAsync(extraTopLevel: $$"""
                 "audit": { "journalDirectory": {{ConfigJson.Quote(Path.Combine(parent, "audit"))}} },
                """);
            Assert.False(s.Recorder.IsAvailable);
            var agents = Enumerable.Range(0, 20).Select(i => "disk-" + i).ToList();

            var refused = await FaultScenario.LoadAsync(agents.Count, 5, i => s.SendAsync(FaultScenario.Chat(), agents[i]));
            FaultScenario.AssertCleanErrors(refused, HttpStatusCode.ServiceUnavailable);
            Assert.All(refused, o => Assert.Equal(HttpStatusCode.ServiceUnavailable, o.Status));
            Assert.Empty(s.Simulator.ReceivedRequests);
            using (var client = s.Gateway.CreateClient())
            using (var ready = await client.GetAsync("healthz/ready"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            }

            // The disk comes back: the recorder reopens the journal on its own.
            File.Delete(parent);
            Directory.CreateDirectory(parent);
            Outcome? served = null;
            for (var attempt = 0; attempt < 200 && served?.Status != HttpStatusCode.OK; attempt++)
            {
                served = await s.SendAsync(FaultScenario.Chat(), "disk-back-" + attempt);
                agents.Add("disk-back-" + attempt);
                if (served.Status != HttpStatusCode.OK)
                {
                    await Task.Delay(100);
                }
            }

            Assert.Equal(HttpStatusCode.OK, served!.Status);
            await s.AssertServingAsync("disk-final");
            // The refusals made while the disk was gone are journaled too, once it is back.
            await s.AssertJournalCompleteAsync([.. agents, "disk-final"]);
        }
        finally
        {
            if (File.Exists(parent))
            {
                File.Delete(parent);
            }
            else if (Directory.Exists(parent))
            {
                Directory.Delete(parent, recursive: true);
            }
        }
    }
}
