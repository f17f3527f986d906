namespace AiGateway.Health;

/// <summary>
/// Graceful shutdown: on SIGTERM Kestrel stops accepting at once and in-flight requests and streams get up to
/// <c>Gateway:DrainSeconds</c> (default 30) to finish; the audit recorder then writes what is queued and seals
/// the journal (it is stopped after the server). Kubernetes' terminationGracePeriodSeconds must exceed it.
/// </summary>
internal static class GatewayShutdown
{
    public const int DefaultDrainSeconds = 30;

    public static IServiceCollection AddGatewayShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        var seconds = configuration.GetValue("Gateway:DrainSeconds", (double)DefaultDrainSeconds);
        services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 3600)));
        return services;
    }
}
