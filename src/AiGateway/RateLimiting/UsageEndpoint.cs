using System.Text.Json;
using AiGateway.Model;

namespace AiGateway.RateLimiting;

/// <summary>
/// <c>GET /admin/v1/usage[?subject=&lt;id&gt;]</c>: current usage and remaining limits and budgets of the caller's
/// agency and of one caller (the given subject, else the admin itself; its limits shown are the agency's per-caller
/// and the caller's own, role limits depend on the role a request is granted through). Requires one of the
/// agency's <c>limits.adminRoles</c>; an admin sees only its own agency.
/// </summary>
internal sealed class UsageEndpoint
{
    private readonly ILimitStore _store;

    public UsageEndpoint(ILimitStore store) => _store = store;

    public async Task HandleAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var caller = feature.Caller!;
        var agency = feature.Config.Agencies[caller.Agency];
        var isAdmin = false;
        foreach (var role in caller.Roles)
        {
            if (agency.Limits.AdminRoles.Contains(role, StringComparer.Ordinal))
            {
                isAdmin = true;
                break;
            }
        }

        if (!isAdmin)
        {
            await context.RejectAsync(new GatewayError(StatusCodes.Status403Forbidden, "admin_role_required", "Reading usage needs one of the agency's admin roles."));
            return;
        }

        var subject = context.Request.Query["subject"].ToString();
        var target = string.IsNullOrEmpty(subject) ? caller : caller with { SubjectId = subject, Roles = [] };
        var perCaller = agency.Limits.PerCaller;
        if (agency.Limits.Callers.TryGetValue(target.SubjectId, out var own))
        {
            perCaller = perCaller.Tightest(own);
        }

        IReadOnlyList<ScopeUsage> usage;
        try
        {
            usage = await _store.ReadAsync(
                [new(ScopeKeys.ForAgency(agency.Name), "agency", agency.Limits.Agency), new(ScopeKeys.ForCaller(agency.Name, target.SubjectId), "caller", perCaller)],
                context.RequestAborted);
        }
        catch (LimitStoreUnavailableException)
        {
            await context.RejectAsync(new GatewayError(StatusCodes.Status503ServiceUnavailable, "limits_unavailable", "The limit store is unavailable."));
            return;
        }

        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("agency", agency.Name);
        writer.WriteString("subject", target.SubjectId);
        writer.WriteStartObject("scopes");
        foreach (var scope in usage)
        {
            writer.WriteStartObject(scope.Scope);
            Write(writer, "requests_per_minute", scope.RequestsLastMinute, scope.Limits.RequestsPerMinute);
            Write(writer, "tokens_per_minute", scope.TokensLastMinute, scope.Limits.TokensPerMinute);
            Write(writer, "concurrent_requests", scope.InFlight, scope.Limits.ConcurrentRequests);
            Write(writer, "tokens_today", scope.TokensToday, scope.Limits.TokensPerDay);
            Write(writer, "tokens_this_month", scope.TokensThisMonth, scope.Limits.TokensPerMonth);
            WriteCost(writer, "cost_today_usd", scope.CostMicrosToday, scope.Limits.CostMicrosPerDay);
            WriteCost(writer, "cost_this_month_usd", scope.CostMicrosThisMonth, scope.Limits.CostMicrosPerMonth);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static void Write(Utf8JsonWriter writer, string name, long used, long? limit)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("used", used);
        if (limit is { } l)
        {
            writer.WriteNumber("limit", l);
            writer.WriteNumber("remaining", Math.Max(0, l - used));
        }

        writer.WriteEndObject();
    }

    private static void WriteCost(Utf8JsonWriter writer, string name, long usedMicros, long? limitMicros)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("used", usedMicros / 1_000_000m);
        if (limitMicros is { } l)
        {
            writer.WriteNumber("limit", l / 1_000_000m);
            writer.WriteNumber("remaining", Math.Max(0, l - usedMicros) / 1_000_000m);
        }

        writer.WriteEndObject();
    }
}
