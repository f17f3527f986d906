using AiGateway.Audit;
using AiGateway.Configuration;
using AiGateway.RateLimiting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiGateway.Health;

/// <summary>
/// Probes for orchestrators: <c>/healthz/live</c> (the process answers) and <c>/healthz/ready</c> (configuration
/// loaded, the shared limit store reachable, the audit journal writable). Unauthenticated and cheap: the body is
/// only the status word (Healthy / Unhealthy), never a check's name, exception or description.
/// </summary>
internal static class GatewayHealthChecks
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static IServiceCollection AddGatewayHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck("process", static () => HealthCheckResult.Healthy(), [LiveTag])
            .AddCheck<ConfigurationHealthCheck>("configuration", tags: [ReadyTag])
            .AddCheck<LimitStoreHealthCheck>("limit-store", tags: [ReadyTag])
            .AddCheck<AuditJournalHealthCheck>("audit-journal", tags: [ReadyTag]);
        services.AddSingleton<LimitStoreHealthCheck>();
        return services;
    }

    public static IEndpointRouteBuilder MapGatewayHealthChecks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = static c => c.Tags.Contains(LiveTag) });
        endpoints.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = static c => c.Tags.Contains(ReadyTag) });
        return endpoints;
    }
}

/// <summary>A configuration snapshot is serving (an invalid reload keeps the last good one, so this stays ready).</summary>
internal sealed class ConfigurationHealthCheck(GatewayConfigStore config) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(config.Current is null ? HealthCheckResult.Unhealthy() : HealthCheckResult.Healthy());
}

/// <summary>The audit journal accepts events (the recorder marks it unavailable after a failed open or write).</summary>
internal sealed class AuditJournalHealthCheck(AuditRecorder audit) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(audit.IsAvailable ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("audit journal not writable"));
}

/// <summary>
/// Redis answers a PING within a short timeout. Probes of every replica arrive often, so one result is shared
/// for about a second and concurrent probes wait on the same PING. The embedded store is always ready.
/// </summary>
internal sealed class LimitStoreHealthCheck(ILimitStore store, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan s_cacheFor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(750);
    private readonly Lock _lock = new();
    private Task<HealthCheckResult>? _last;
    private long _lastTimestamp;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (store is not RedisLimitStore redis)
        {
            return Task.FromResult(HealthCheckResult.Healthy());
        }

        lock (_lock)
        {
            if (_last is null || time.GetElapsedTime(_lastTimestamp) >= s_cacheFor)
            {
                _last = PingAsync(redis);
                _lastTimestamp = time.GetTimestamp();
            }

            return _last;
        }
    }

    private async Task<HealthCheckResult> PingAsync(RedisLimitStore redis)
    {
        try
        {
            await redis.PingAsync().WaitAsync(s_timeout, time, CancellationToken.None);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is TimeoutException or StackExchange.Redis.RedisException or ObjectDisposedException)
        {
            return HealthCheckResult.Unhealthy("redis unreachable");
        }
    }
}
