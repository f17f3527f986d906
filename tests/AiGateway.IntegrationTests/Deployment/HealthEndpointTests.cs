using System.Net;
using AiGateway.IntegrationTests.Audit;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Deployment;

/// <summary>/healthz/live and /healthz/ready against the real gateway: unauthenticated, status word only, readiness follows its dependencies.</summary>
public sealed class HealthEndpointTests
{
    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(TestGateway gateway, string path)
    {
        using var client = gateway.CreateClient();
        using var response = await client.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Live_and_ready_answer_200_without_a_token_and_reveal_only_a_status_word()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var s = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        foreach (var path in new[] { "healthz/live", "healthz/ready" })
        {
            var (status, body) = await GetAsync(s.Gateway, path);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("Healthy", body);
        }
    }

    [Fact]
    public async Task Ready_is_503_while_redis_is_down_and_200_again_when_it_returns_while_live_stays_200()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var simulator = await SimulatorServer.StartAsync();
        var gatewayJson = ConfigJson.Gateway(simulator.BaseAddress, extraTopLevel: $$"""
             "limitStore": { "type": "redis", "redis": {{ConfigJson.Quote(redis.ConnectionString)}}, "timeoutMilliseconds": 300, "breakSeconds": 1 },
            """);
        await using var s = await GatewayScenario.StartAsync(gatewayJson);

        await WaitForStatusAsync(s.Gateway, "healthz/ready", HttpStatusCode.OK);

        await redis.KillAsync();
        var (status, body) = await WaitForStatusAsync(s.Gateway, "healthz/ready", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", body);
        Assert.DoesNotContain("redis", body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(s.Gateway, "healthz/live")).Status);

        await redis.RestartAsync();
        (status, _) = await WaitForStatusAsync(s.Gateway, "healthz/ready", HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Ready_is_503_while_the_audit_journal_cannot_be_written()
    {
        // Tests run as root, so permissions do not stop writes: a regular file where a directory must be does.
        var blocker = Path.Combine(Path.GetTempPath(), "aigw-health-blocker-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(blocker, "not a directory");
        try
        {
            await using var s = await AuditScenario.StartAsync(otlp: false, audit: $"\"journalDirectory\": {ConfigJson.Quote(Path.Combine(blocker, "audit"))}");
            var (status, body) = await GetAsync(s.Gateway, "healthz/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Unhealthy", body);
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(s.Gateway, "healthz/live")).Status);
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    public async Task Probes_are_not_audited_and_not_rate_limited()
    {
        await using var s = await AuditScenario.StartAsync(otlp: false);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(s.Gateway, i % 2 == 0 ? "healthz/live" : "healthz/ready")).Status);
        }

        using var response = await s.PostAsync("v1/chat/completions", AuditScenario.Chat("gpt-4o-mini", "Hello"), s.EngineerToken, "after-probes");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await s.WaitForJournalAsync(1);
        Assert.Equal(["after-probes"], s.ReadJournalEvents().Select(AuditScenario.UserAgentOf));
    }

    [Theory]
    [InlineData("GET", "healthz")]
    [InlineData("GET", "healthz/other")]
    [InlineData("GET", "healthz/ready/../../v1/models")]
    [InlineData("POST", "healthz/ready")]
    [InlineData("DELETE", "healthz/live")]
    public async Task Other_requests_under_healthz_never_get_a_500_or_reach_a_model(string method, string path)
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var s = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));
        using var client = s.Gateway.CreateClient();
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.True((int)response.StatusCode is 200 or 401 or 404 or 405 or 503, $"{method} {path}: {(int)response.StatusCode}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("gpt-4o-mini", body, StringComparison.Ordinal);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Probe_command_exits_0_when_live_1_when_down_and_2_for_a_non_loopback_url()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var s = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));
        var live = new Uri(s.Gateway.BaseAddress, "healthz/live").AbsoluteUri;
        Assert.Equal(0, await AiGateway.Health.ProbeCommand.RunAsync([live], TextWriter.Null));
        Assert.Equal(1, await AiGateway.Health.ProbeCommand.RunAsync([$"http://127.0.0.1:{FreePort.Get()}/healthz/live"], TextWriter.Null));
        Assert.Equal(1, await AiGateway.Health.ProbeCommand.RunAsync([new Uri(s.Gateway.BaseAddress, "v1/models").AbsoluteUri], TextWriter.Null)); // 401 is not healthy
        Assert.Equal(2, await AiGateway.Health.ProbeCommand.RunAsync(["http://example.com/healthz/live"], TextWriter.Null));
    }

    private static async Task<(HttpStatusCode Status, string Body)> WaitForStatusAsync(TestGateway gateway, string path, HttpStatusCode expected)
    {
        (HttpStatusCode Status, string Body) last = default;
        for (var i = 0; i < 300; i++)
        {
            last = await GetAsync(gateway, path);
            if (last.Status == expected)
            {
                return last;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{path} stayed {last.Status} ({last.Body}), expected {expected}");
        return last;
    }
}
