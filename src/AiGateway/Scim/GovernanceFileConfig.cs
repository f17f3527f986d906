namespace AiGateway.Scim;

// Agency-file shapes for identity lifecycle and governance (see docs/governance.md).

/// <summary>The agency's SCIM 2.0 service provider (<c>/scim/v2/{agency}/…</c>).</summary>
public sealed record ScimConfig
{
    /// <summary>Where the provisioning bearer secret is read from (env var or file); separate from user tokens.</summary>
    public Configuration.CredentialReference? Token { get; init; }

    /// <summary>
    /// Demo convenience (refused in Production): when <see cref="Token"/>'s env var is unset, a random secret is
    /// generated once and kept in <c>&lt;data dir&gt;/&lt;agency&gt;-scim-token</c> (mode 0600).
    /// </summary>
    public bool GenerateWhenUnset { get; init; }
}

/// <summary>How the provisioned directory takes part in each request's caller stage.</summary>
public sealed record DirectoryConfig
{
    /// <summary><c>directory-optional</c> (default when SCIM is on): unknown users pass on token claims, known-but-inactive ones are denied; <c>directory-required</c>: only provisioned, active users; <c>off</c>.</summary>
    public string? Mode { get; init; }

    /// <summary>SCIM group (displayName or id) → gateway roles it grants, in addition to token claims.</summary>
    public Dictionary<string, List<string>> GroupRoles { get; init; } = [];
}

/// <summary>A workload (app-only / agent) identity the agency owns.</summary>
public sealed record WorkloadConfig
{
    /// <summary>Who answers for the workload (a person's user name).</summary>
    public string? Owner { get; init; }

    public string? Description { get; init; }

    /// <summary>Roles granted to the workload in addition to its token's roles.</summary>
    public List<string> Roles { get; init; } = [];

    /// <summary>A disabled workload is refused like a deprovisioned person.</summary>
    public bool Disabled { get; init; }
}
