using System.Globalization;
using System.Text;
using AiGateway.Configuration;
using AiGateway.Model;
using AiGateway.Scim;

namespace AiGateway.Governance;

/// <summary>One role a subject holds and where it comes from.</summary>
/// <param name="Via"><c>group:&lt;SCIM group&gt;</c>, <c>token</c> (claims seen at last use) or <c>workload-config</c>.</param>
internal sealed record RoleGrant(string Role, string Via, IReadOnlyList<string> Models);

/// <summary>One person or workload in an access review.</summary>
internal sealed record AccessReviewEntry
{
    public required string Kind { get; init; }

    public required string SubjectId { get; init; }

    public string? UserName { get; init; }

    public string? DisplayName { get; init; }

    /// <summary>active, inactive (deprovisioned in the directory), disabled (workload), unprovisioned (seen in traffic only).</summary>
    public required string Status { get; init; }

    /// <summary>Where the subject is known from: directory, config, traffic.</summary>
    public required IReadOnlyList<string> Sources { get; init; }

    public string? Owner { get; init; }

    public string? Description { get; init; }

    public required IReadOnlyList<RoleGrant> Grants { get; init; }

    /// <summary>Models the subject can use now (empty when not active).</summary>
    public required IReadOnlyList<string> Models { get; init; }

    public DateTimeOffset? LastUse { get; init; }

    public required IReadOnlyDictionary<string, DateTimeOffset> LastUseByModel { get; init; }

    public long TokensInPeriod { get; init; }

    public long RequestsInPeriod { get; init; }

    /// <summary>Granted models with no use in the dormancy window.</summary>
    public required IReadOnlyList<string> DormantModels { get; init; }

    /// <summary>Has access but no use at all in the dormancy window.</summary>
    public bool Dormant { get; init; }
}

/// <summary>An agency's access review: who can use which model, through what, and whether they do.</summary>
internal sealed record AccessReviewReport(string Agency, DateTimeOffset GeneratedAt, int DormantDays, DateTimeOffset PeriodStart, IReadOnlyList<AccessReviewEntry> Entries)
{
    private static readonly string[] s_csvColumns =
    [
        "agency", "kind", "subject_id", "user_name", "display_name", "status", "sources", "owner", "roles", "models",
        "last_use", "tokens_in_period", "requests_in_period", "dormant_models", "dormant",
    ];

    /// <summary>Joins directory, configured workloads and activity; <paramref name="now"/> comes from the injected TimeProvider.</summary>
    public static AccessReviewReport Build(
        GatewaySnapshot config,
        AgencyPolicy agency,
        IReadOnlyList<DirectoryUser> users,
        IReadOnlyList<DirectoryGroup> groups,
        IReadOnlyList<SubjectActivity> activity,
        DateTimeOffset now,
        int dormantDays)
    {
        var since = now - TimeSpan.FromDays(dormantDays);
        var firstDay = DirectoryDays.Of(since);
        var governance = agency.Governance;
        var entries = new List<AccessReviewEntry>();
        var usedActivity = new HashSet<SubjectActivity>();

        var groupsByMember = new Dictionary<string, List<DirectoryGroup>>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            foreach (var member in group.Members)
            {
                if (!groupsByMember.TryGetValue(member.Value, out var list))
                {
                    groupsByMember[member.Value] = list = [];
                }

                list.Add(group);
            }
        }

        foreach (var user in users)
        {
            var seen = activity.FirstOrDefault(a => a.Kind == CallerKind.Person
                && (string.Equals(a.SubjectId, user.ExternalId, StringComparison.Ordinal) || string.Equals(a.UserName, user.UserName, StringComparison.OrdinalIgnoreCase)));
            if (seen is not null)
            {
                usedActivity.Add(seen);
            }

            var grants = new List<(string Role, string Via)>();
            foreach (var group in groupsByMember.GetValueOrDefault(user.Id) ?? [])
            {
                if (governance.GroupRoles.TryGetValue(group.DisplayName, out var roles) || governance.GroupRoles.TryGetValue(group.Id, out roles))
                {
                    foreach (var role in roles)
                    {
                        grants.Add((role, "group:" + group.DisplayName));
                    }
                }
            }

            AddTokenRoles(grants, seen);
            entries.Add(Entry(config, agency, CallerKind.Person, user.ExternalId ?? seen?.SubjectId ?? user.Id, user.UserName,
                Scim.ScimResource.ReadString(user.Json, "displayName"), user.Active ? "active" : "inactive", seen is null ? ["directory"] : ["directory", "traffic"],
                null, null, grants, seen, since, firstDay));
        }

        foreach (var (id, workload) in governance.Workloads)
        {
            var seen = activity.FirstOrDefault(a => a.Kind == CallerKind.Workload && (a.ClientAppId == id || a.SubjectId == id));
            if (seen is not null)
            {
                usedActivity.Add(seen);
            }

            var grants = new List<(string Role, string Via)>();
            foreach (var role in workload.Roles)
            {
                grants.Add((role, "workload-config"));
            }

            AddTokenRoles(grants, seen);
            entries.Add(Entry(config, agency, CallerKind.Workload, id, null, workload.Description, workload.Disabled ? "disabled" : "active",
                seen is null ? ["config"] : ["config", "traffic"], workload.Owner, workload.Description, grants, seen, since, firstDay));
        }

        foreach (var seen in activity)
        {
            if (usedActivity.Contains(seen))
            {
                continue;
            }

            var grants = new List<(string Role, string Via)>();
            AddTokenRoles(grants, seen);
            var status = governance.Mode == DirectoryMode.Required && seen.Kind == CallerKind.Person ? "unprovisioned" : seen.Kind == CallerKind.Workload ? "unregistered" : "unprovisioned";
            entries.Add(Entry(config, agency, seen.Kind, seen.ClientAppId ?? seen.SubjectId, seen.UserName, null, status, ["traffic"], null, null, grants, seen, since, firstDay));
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Kind + "\0" + (a.UserName ?? a.SubjectId), b.Kind + "\0" + (b.UserName ?? b.SubjectId)));
        return new AccessReviewReport(agency.Name, now, dormantDays, since, entries);
    }

    private static void AddTokenRoles(List<(string Role, string Via)> grants, SubjectActivity? seen)
    {
        foreach (var role in seen?.LastRoles ?? [])
        {
            if (!grants.Exists(g => g.Role == role))
            {
                grants.Add((role, "token"));
            }
        }
    }

    private static AccessReviewEntry Entry(
        GatewaySnapshot config, AgencyPolicy agency, CallerKind kind, string subjectId, string? userName, string? displayName, string status,
        IReadOnlyList<string> sources, string? owner, string? description, List<(string Role, string Via)> grants, SubjectActivity? seen, DateTimeOffset since, int firstDay)
    {
        var roleGrants = new List<RoleGrant>();
        var models = new List<string>();
        foreach (var (role, via) in grants)
        {
            var granted = new List<string>();
            if (agency.Roles.TryGetValue(role, out var policy))
            {
                foreach (var model in config.Models)
                {
                    var patterns = kind == CallerKind.Workload ? policy.WorkloadModels : policy.PersonModels;
                    if (agency.Models.Matches(model) && patterns.Matches(model))
                    {
                        granted.Add(model.Name);
                        if (!models.Contains(model.Name, StringComparer.Ordinal))
                        {
                            models.Add(model.Name);
                        }
                    }
                }
            }

            roleGrants.Add(new RoleGrant(role, via, granted));
        }

        // Only an active subject has access; the grants are still shown for the reviewer.
        if (status is not "active" and not "unprovisioned" and not "unregistered")
        {
            models.Clear();
        }

        long tokens = 0, requests = 0;
        foreach (var (day, count) in seen?.TokensByDay ?? new Dictionary<int, long>())
        {
            if (day >= firstDay)
            {
                tokens += count;
            }
        }

        foreach (var (day, count) in seen?.RequestsByDay ?? new Dictionary<int, long>())
        {
            if (day >= firstDay)
            {
                requests += count;
            }
        }

        var lastUseByModel = seen?.LastUseByModel ?? new Dictionary<string, DateTimeOffset>();
        var dormant = new List<string>();
        foreach (var model in models)
        {
            if (!lastUseByModel.TryGetValue(model, out var last) || last < since)
            {
                dormant.Add(model);
            }
        }

        var lastUse = seen is null || seen.LastUse == default ? (DateTimeOffset?)null : seen.LastUse;
        return new AccessReviewEntry
        {
            Kind = kind == CallerKind.Workload ? "workload" : "person",
            SubjectId = subjectId,
            UserName = userName ?? seen?.UserName,
            DisplayName = displayName,
            Status = status,
            Sources = sources,
            Owner = owner,
            Description = description,
            Grants = roleGrants,
            Models = models,
            LastUse = lastUse,
            LastUseByModel = lastUseByModel,
            TokensInPeriod = tokens,
            RequestsInPeriod = requests,
            DormantModels = dormant,
            Dormant = models.Count > 0 && (lastUse is null || lastUse < since),
        };
    }

    /// <summary>One row per subject; cells that a spreadsheet would run as a formula are prefixed with an apostrophe.</summary>
    public string ToCsv()
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', s_csvColumns).Append("\r\n");
        foreach (var e in Entries)
        {
            string[] cells =
            [
                Agency, e.Kind, e.SubjectId, e.UserName ?? string.Empty, e.DisplayName ?? string.Empty, e.Status, string.Join(';', e.Sources), e.Owner ?? string.Empty,
                string.Join(';', e.Grants.Select(g => g.Role + "@" + g.Via)), string.Join(';', e.Models),
                e.LastUse?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? string.Empty,
                e.TokensInPeriod.ToString(CultureInfo.InvariantCulture), e.RequestsInPeriod.ToString(CultureInfo.InvariantCulture),
                string.Join(';', e.DormantModels), e.Dormant ? "true" : "false",
            ];
            for (var i = 0; i < cells.Length; i++)
            {
                if (i > 0)
                {
                    csv.Append(',');
                }

                csv.Append(Cell(cells[i]));
            }

            csv.Append("\r\n");
        }

        return csv.ToString();
    }

    private static string Cell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
