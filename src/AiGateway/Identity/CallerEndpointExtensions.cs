using AiGateway.Scim;

namespace AiGateway.Identity;

/// <summary>The caller stages (token → Caller, then the provisioned directory) in front of a gateway-served endpoint.</summary>
internal static class CallerEndpointExtensions
{
    /// <summary>Stages 1–2: authenticate and resolve the caller, then apply the directory (deprovisioning, SCIM group roles).</summary>
    public static IApplicationBuilder UseCaller(this IApplicationBuilder pipeline) =>
        pipeline.UseMiddleware<CallerMiddleware>().UseMiddleware<DirectoryMiddleware>();

    /// <summary>Maps a GET endpoint answered by <paramref name="handler"/> for an authenticated, directory-checked caller.</summary>
    public static IEndpointConventionBuilder MapCallerGet(this IEndpointRouteBuilder endpoints, string pattern, RequestDelegate handler, Action<IApplicationBuilder>? stages = null)
    {
        var pipeline = endpoints.CreateApplicationBuilder().UseCaller();
        stages?.Invoke(pipeline);
        pipeline.Run(handler);
        return endpoints.MapGet(pattern, pipeline.Build());
    }
}
