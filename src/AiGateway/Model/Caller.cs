namespace AiGateway.Model;

/// <summary>Whether a caller is a person or a workload (an app-only / agent identity).</summary>
internal enum CallerKind
{
    Person,
    Workload,
}

/// <summary>
/// The proven caller of one request, built once from the validated token's claims.
/// The agency is the one whose identity provider issued the token; nothing else can choose it.
/// </summary>
internal sealed record Caller
{
    public required string Agency { get; init; }

    /// <summary>Stable subject id: Entra <c>oid</c>, else <c>sub</c>.</summary>
    public required string SubjectId { get; init; }

    public required CallerKind Kind { get; init; }

    public required IReadOnlyList<string> Roles { get; init; }

    public required string Issuer { get; init; }

    public string? DisplayName { get; init; }

    /// <summary>UPN / preferred_username / email, whichever the token carries.</summary>
    public string? UserName { get; init; }

    /// <summary>For workloads: the client application id (<c>azp</c>/<c>appid</c>).</summary>
    public string? ClientAppId { get; init; }

    /// <summary>The caller's clearance from the agency's clearance claim, when the agency names one and the token carries it.</summary>
    public Markings.MarkingLevel? Clearance { get; init; }

    /// <summary>Group ids from the token (only used to map roles; kept for audit of why access was granted).</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];
}
