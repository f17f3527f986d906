using AiGateway.Model;

namespace AiGateway.Entitlements;

/// <summary>Stage 4: refuses with 403 <c>model_not_permitted</c> when no role of the caller grants the model.</summary>
internal sealed class EntitlementMiddleware
{
    private readonly RequestDelegate _next;

    public EntitlementMiddleware(RequestDelegate next) => _next = next;

    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var caller = feature.Caller!;
        var model = feature.Model!;
        var role = feature.Config.Agencies.TryGetValue(caller.Agency, out var agency) ? Entitlement.GrantingRole(caller, agency, model) : null;
        feature.GrantingRole = role;
        if (role is null)
        {
            // Names the model and the fact, never the caller's roles.
            return context.RejectAsync(new GatewayError(StatusCodes.Status403Forbidden, "model_not_permitted", $"No role you hold grants access to the model '{feature.Request!.Model}'."));
        }

        return _next(context);
    }
}
