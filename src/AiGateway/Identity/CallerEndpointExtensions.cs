using AiGateway.Audit;
using AiGateway.Scim;

namespace AiGateway.Identity;

/// <summary>The caller stages (token → Caller, then the provisioned directory) in front of a gateway-served endpoint.</summary>
internal static class CallerEndpointExtensions
{
    /// <summary>Stages 1–2: authenticate and resolve the caller, then apply the directory (deprovisioning, SCIM group roles).</summary>
    public static IApplicationBuilder UseCaller(this IApplicationBuilder pipeline) =>
        pipeline.UseMiddleware<CallerMiddleware>().UseMiddleware<DirectoryMiddleware>();

    /// <summary>
    /// Maps a GET endpoint answered by <paramref name="handler"/> for an authenticated, directory-checked caller, behind
    /// the audit gate: like model calls, admin reads are refused while a fail-closed agency's audit cannot be recorded.
    /// </summary>
    public static IEndpointConventionBuilder MapCallerGet(this IEndpointRouteBuilder endpoints, string pattern, RequestDelegate handler)
    {
        var pipeline = endpoints.CreateApplicationBuilder().UseCaller().UseAuditGate();
        pipeline.Run(handler);
        return endpoints.MapGet(pattern, pipeline.Build());
    }
}
