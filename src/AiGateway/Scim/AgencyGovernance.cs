using System.Collections.Frozen;
using AiGateway.Configuration;

namespace AiGateway.Scim;

/// <summary>How the directory decides on a caller.</summary>
internal enum DirectoryMode
{
    /// <summary>No directory lookup (neither SCIM nor a directory section configured).</summary>
    Off,

    /// <summary>Unknown users pass on token claims; known-but-inactive or deleted users are denied.</summary>
    Optional,

    /// <summary>Only provisioned, active users (and declared, enabled workloads) may call.</summary>
    Required,
}

/// <summary>A declared workload identity.</summary>
internal sealed record WorkloadPolicy(string Id, string? Owner, string? Description, IReadOnlyList<string> Roles, bool Disabled);

/// <summary>An agency's validated identity-lifecycle settings.</summary>
internal sealed record AgencyGovernance
{
    public static AgencyGovernance None { get; } = new();

    public DirectoryMode Mode { get; init; } = DirectoryMode.Off;

    /// <summary>The SCIM credential reference (resolved per SCIM request, so a rotated secret applies at once); null: SCIM off.</summary>
    public CredentialReference? ScimToken { get; init; }

    public bool GenerateScimToken { get; init; }

    public bool ScimEnabled => ScimToken is not null;

    /// <summary>SCIM group displayName or id (case-insensitive) → roles.</summary>
    public FrozenDictionary<string, IReadOnlyList<string>> GroupRoles { get; init; } = FrozenDictionary<string, IReadOnlyList<string>>.Empty;

    /// <summary>Workloads by client app id (or subject).</summary>
    public FrozenDictionary<string, WorkloadPolicy> Workloads { get; init; } = FrozenDictionary<string, WorkloadPolicy>.Empty;

    /// <summary>Roles allowed to use the admin APIs: agency <c>adminRoles</c> plus <c>limits.adminRoles</c>.</summary>
    public IReadOnlyList<string> AdminRoles { get; init; } = [];

    public bool IsAdmin(IReadOnlyList<string> roles)
    {
        foreach (var role in roles)
        {
            foreach (var admin in AdminRoles)
            {
                if (string.Equals(role, admin, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Validates the agency file's <c>scim</c>, <c>directory</c>, <c>workloads</c> and <c>adminRoles</c>; every error is reported.</summary>
    public static AgencyGovernance Validate(AgencyFileConfig agency, IReadOnlyDictionary<string, RolePolicy> roles, bool isProduction, Action<string, string> error)
    {
        CredentialReference? token = null;
        var generate = false;
        if (agency.Scim is { } scim)
        {
            if (scim.Token is null)
            {
                error("$.scim.token", "SCIM needs a provisioning credential. Fix: \"token\": { \"env\": \"AGENCY_SCIM_TOKEN\" } or { \"file\": \"/run/secrets/scim-token\" }.");
            }
            else if ((scim.Token.Env is null) == (scim.Token.File is null))
            {
                error("$.scim.token", "give exactly one of \"env\" (environment variable name) or \"file\" (secret file path); never the secret itself.");
            }
            else
            {
                token = scim.Token;
                if (scim.GenerateWhenUnset && isProduction)
                {
                    error("$.scim.generateWhenUnset", "a generated SCIM credential is for the demo only and refused in Production. Fix: remove it and set the credential's env var or file.");
                }
                else if (scim.GenerateWhenUnset && token.Env is null)
                {
                    error("$.scim.generateWhenUnset", "only an env-var credential can fall back to a generated secret. Fix: use \"token\": { \"env\": \"…\" }.");
                }
                else if (token.Env is not null && !scim.GenerateWhenUnset && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(token.Env)))
                {
                    error("$.scim.token.env", $"environment variable '{token.Env}' is not set. Fix: set it to the provisioning secret your identity provider sends.");
                }

                generate = scim.GenerateWhenUnset;
            }
        }

        var mode = token is null ? DirectoryMode.Off : DirectoryMode.Optional;
        var groupRoles = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        if (agency.Directory is { } directory)
        {
            mode = directory.Mode switch
            {
                null or "directory-optional" => DirectoryMode.Optional,
                "directory-required" => DirectoryMode.Required,
                "off" => DirectoryMode.Off,
                _ => Fail(error, "$.directory.mode", $"'{directory.Mode}' is not a directory mode. Fix: 'directory-optional' (unknown users pass on token claims) or 'directory-required' (only provisioned, active users)."),
            };
            foreach (var (group, granted) in directory.GroupRoles)
            {
                for (var i = 0; i < granted.Count; i++)
                {
                    if (!roles.ContainsKey(granted[i]))
                    {
                        error($"$.directory.groupRoles['{group}'][{i}]", $"'{granted[i]}' is not a role of this agency. Fix: declare it under $.roles.");
                    }
                }

                groupRoles[group] = [.. granted];
            }
        }

        var workloads = new Dictionary<string, WorkloadPolicy>(StringComparer.Ordinal);
        foreach (var (id, workload) in agency.Workloads)
        {
            if (string.IsNullOrWhiteSpace(workload.Owner))
            {
                error($"$.workloads['{id}'].owner", "every workload needs an owner who answers for it. Fix: \"owner\": \"jane@agency.gov\".");
            }

            for (var i = 0; i < workload.Roles.Count; i++)
            {
                if (!roles.ContainsKey(workload.Roles[i]))
                {
                    error($"$.workloads['{id}'].roles[{i}]", $"'{workload.Roles[i]}' is not a role of this agency. Fix: declare it under $.roles.");
                }
            }

            workloads[id] = new WorkloadPolicy(id, workload.Owner, workload.Description, [.. workload.Roles], workload.Disabled);
        }

        var admin = new List<string>(agency.Limits.AdminRoles);
        for (var i = 0; i < agency.AdminRoles.Count; i++)
        {
            if (!roles.ContainsKey(agency.AdminRoles[i]))
            {
                error($"$.adminRoles[{i}]", $"'{agency.AdminRoles[i]}' is not a role of this agency. Fix: declare it under $.roles.");
            }
            else if (!admin.Contains(agency.AdminRoles[i], StringComparer.Ordinal))
            {
                admin.Add(agency.AdminRoles[i]);
            }
        }

        return new AgencyGovernance
        {
            Mode = mode,
            ScimToken = token,
            GenerateScimToken = generate,
            GroupRoles = groupRoles.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Workloads = workloads.ToFrozenDictionary(StringComparer.Ordinal),
            AdminRoles = admin,
        };
    }

    private static DirectoryMode Fail(Action<string, string> error, string path, string message)
    {
        error(path, message);
        return DirectoryMode.Off;
    }
}
