using AiGateway.Telemetry;

namespace AiGateway.Audit;

/// <summary>Registration of the audit stage.</summary>
internal static class AuditServiceCollectionExtensions
{
    /// <summary>The audit recorder (queue, journal writer, OTLP export) as a singleton and a hosted service.</summary>
    public static IServiceCollection AddGatewayAudit(this IServiceCollection services)
    {
        services.AddGatewayMetrics();
        services.AddSingleton<AuditRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditRecorder>());
        return services;
    }

    /// <summary>Refuses (fail-closed) or counts (fail-open) requests while audit cannot be recorded; place after the caller is resolved.</summary>
    public static IApplicationBuilder UseAuditGate(this IApplicationBuilder app) => app.UseMiddleware<AuditGateMiddleware>();
}
