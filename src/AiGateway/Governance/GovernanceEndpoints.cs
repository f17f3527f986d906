using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiGateway.Configuration;
using AiGateway.Model;
using AiGateway.Scim;

namespace AiGateway.Governance;

/// <summary>
/// Admin APIs for identity governance, for callers holding one of their agency's admin roles (agency
/// <c>adminRoles</c> or <c>limits.adminRoles</c>), always scoped to the caller's own agency:
/// <c>GET /admin/v1/access-review?format=json|csv&amp;dormantDays=N</c> and <c>GET /admin/v1/governance?days=N</c>
/// (the governance page's data).
/// </summary>
internal sealed class GovernanceEndpoints
{
    public const int DefaultDormantDays = 30;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly IDirectoryStore _store;
    private readonly TimeProvider _time;

    public GovernanceEndpoints(IDirectoryStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public async Task AccessReviewAsync(HttpContext context)
    {
        if (await AdminAgencyAsync(context) is not { } agency)
        {
            return;
        }

        if (!TryDays(context, "dormantDays", DefaultDormantDays, out var dormantDays))
        {
            await context.RejectAsync(GatewayError.InvalidRequest("dormantDays must be a whole number of days from 1 to 3650."));
            return;
        }

        var format = context.Request.Query["format"].ToString();
        if (format.Length > 0 && format is not "json" and not "csv")
        {
            await context.RejectAsync(GatewayError.InvalidRequest("format must be json or csv."));
            return;
        }

        var report = await BuildReportAsync(context, agency, dormantDays);
        if (report is null)
        {
            return;
        }

        context.Response.Headers.CacheControl = "no-store";
        if (format == "csv")
        {
            context.Response.ContentType = "text/csv; charset=utf-8";
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"access-review-{agency.Name}-{report.GeneratedAt:yyyyMMdd}.csv\"";
            await context.Response.WriteAsync(report.ToCsv(), context.RequestAborted);
            return;
        }

        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, report, s_json, context.RequestAborted);
    }

    public async Task SummaryAsync(HttpContext context)
    {
        if (await AdminAgencyAsync(context) is not { } agency)
        {
            return;
        }

        if (!TryDays(context, "days", 14, out var days) || days > 366 || !TryDays(context, "dormantDays", DefaultDormantDays, out var dormantDays))
        {
            await context.RejectAsync(GatewayError.InvalidRequest("days must be from 1 to 366 and dormantDays from 1 to 3650."));
            return;
        }

        var report = await BuildReportAsync(context, agency, dormantDays);
        if (report is null)
        {
            return;
        }

        var config = context.GetGatewayFeature().Config;
        var today = DirectoryDays.Of(report.GeneratedAt);
        IReadOnlyList<DailyUsage> usage;
        IReadOnlyList<GovernanceEvent> blocks, deprovisioning;
        try
        {
            usage = await _store.ReadDailyUsageAsync(agency.Name, today - days + 1, today, context.RequestAborted);
            blocks = await _store.ReadEventsAsync(agency.Name, EventStream.Blocks, 200, context.RequestAborted);
            deprovisioning = await _store.ReadEventsAsync(agency.Name, EventStream.Deprovisioning, 50, context.RequestAborted);
        }
        catch (DirectoryUnavailableException)
        {
            await context.RejectAsync(new GatewayError(StatusCodes.Status503ServiceUnavailable, "directory_unavailable", "The directory store is unavailable."));
            return;
        }

        var accessByModel = new List<object>();
        foreach (var model in config.Models)
        {
            if (!agency.Models.Matches(model))
            {
                continue;
            }

            int people = 0, workloads = 0, dormant = 0;
            foreach (var entry in report.Entries)
            {
                if (entry.Models.Contains(model.Name, StringComparer.Ordinal))
                {
                    _ = entry.Kind == "workload" ? workloads++ : people++;
                    if (entry.DormantModels.Contains(model.Name, StringComparer.Ordinal))
                    {
                        dormant++;
                    }
                }
            }

            accessByModel.Add(new { model = model.Name, ceiling = Entitlements.ModelsEndpoint.CeilingName(model.Ceiling), people, workloads, dormant });
        }

        var byLevel = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var since = report.GeneratedAt - TimeSpan.FromDays(days);
        foreach (var block in blocks)
        {
            if (block.At >= since)
            {
                byLevel[block.Kind] = byLevel.GetValueOrDefault(block.Kind) + 1;
            }
        }

        var summary = new
        {
            agency = agency.Name,
            displayName = agency.DisplayName,
            generatedAt = report.GeneratedAt,
            days,
            dormantDays,
            accessByModel,
            dormant = report.Entries.Where(e => e.DormantModels.Count > 0).Select(e => new { e.Kind, e.SubjectId, e.UserName, e.Status, models = e.DormantModels, e.LastUse, e.Owner }),
            blocks = new { byLevel, recent = blocks.Take(20).Select(b => new { b.At, level = b.Kind, b.Subject, model = b.Detail }) },
            usage = usage.Select(u => new { day = DirectoryDays.Start(u.Day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), u.Requests, u.Tokens, u.Blocked }),
            deprovisioning,
        };
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, summary, s_json, context.RequestAborted);
    }

    private async Task<AccessReviewReport?> BuildReportAsync(HttpContext context, AgencyPolicy agency, int dormantDays)
    {
        try
        {
            var users = await _store.ListUsersAsync(agency.Name, context.RequestAborted);
            var groups = await _store.ListGroupsAsync(agency.Name, context.RequestAborted);
            var activity = await _store.ReadActivityAsync(agency.Name, context.RequestAborted);
            return AccessReviewReport.Build(context.GetGatewayFeature().Config, agency, users, groups, activity, _time.GetUtcNow(), dormantDays);
        }
        catch (DirectoryUnavailableException)
        {
            await context.RejectAsync(new GatewayError(StatusCodes.Status503ServiceUnavailable, "directory_unavailable", "The directory store is unavailable."));
            return null;
        }
    }

    /// <summary>The caller's agency when the caller holds one of its admin roles (and names no other agency); otherwise answers 403.</summary>
    private static async Task<AgencyPolicy?> AdminAgencyAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var caller = feature.Caller!;
        var requested = context.Request.Query["agency"].ToString();
        if (!feature.Config.Agencies.TryGetValue(caller.Agency, out var agency) || !agency.Governance.IsAdmin(caller.Roles)
            || (requested.Length > 0 && !string.Equals(requested, agency.Name, StringComparison.Ordinal)))
        {
            await context.RejectAsync(new GatewayError(StatusCodes.Status403Forbidden, "admin_role_required", "Governance data needs one of your agency's admin roles, and covers only your own agency."));
            return null;
        }

        return agency;
    }

    private static bool TryDays(HttpContext context, string name, int fallback, out int days)
    {
        var text = context.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            days = fallback;
            return true;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out days) && days is >= 1 and <= 3650;
    }
}
