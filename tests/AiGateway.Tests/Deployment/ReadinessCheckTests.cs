using AiGateway.Health;
using AiGateway.RateLimiting;
using AiGateway.Tests.Common;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Deployment;

/// <summary>The limit-store readiness check: a real PING, shared by the probes of one second.</summary>
public sealed class ReadinessCheckTests
{
    private static readonly HealthCheckContext s_context = new();

    [Fact]
    public async Task Embedded_store_is_always_ready()
    {
        var check = new LimitStoreHealthCheck(new EmbeddedLimitStore(TimeProvider.System), TimeProvider.System);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(s_context)).Status);
    }

    [Fact]
    public async Task Reachable_redis_is_ready()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var store = RedisLimitStore.Connect(redis.ConnectionString, null, 500, TimeSpan.FromSeconds(1), NullLogger<RedisLimitStore>.Instance);
        var time = new FakeTimeProvider();
        var check = new LimitStoreHealthCheck(store, time);
        HealthStatus status = HealthStatus.Unhealthy;
        // The multiplexer connects in the background: give it a few refreshed results.
        for (var attempt = 0; attempt < 50 && status != HealthStatus.Healthy; attempt++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            status = (await check.CheckHealthAsync(s_context)).Status;
        }

        Assert.Equal(HealthStatus.Healthy, status);
    }

    [Fact]
    public async Task Unreachable_redis_is_not_ready_and_one_ping_serves_every_probe_of_the_same_second()
    {
        await using var store = RedisLimitStore.Connect($"127.0.0.1:{FreePort.Get()}", null, 200, TimeSpan.FromSeconds(1), NullLogger<RedisLimitStore>.Instance);
        var time = new FakeTimeProvider();
        var check = new LimitStoreHealthCheck(store, time);

        var first = check.CheckHealthAsync(s_context);
        var second = check.CheckHealthAsync(s_context);
        Assert.Same(first, second);
        Assert.Equal(HealthStatus.Unhealthy, (await first).Status);
        Assert.Equal("redis unreachable", (await first).Description);

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Same(first, check.CheckHealthAsync(s_context));
        time.Advance(TimeSpan.FromMilliseconds(1));
        var third = check.CheckHealthAsync(s_context);
        Assert.NotSame(first, third);
        Assert.Equal(HealthStatus.Unhealthy, (await third).Status);
    }
}
