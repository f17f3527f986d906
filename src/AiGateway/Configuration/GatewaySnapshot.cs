using System.Collections.Frozen;
using AiGateway.Markings;

namespace AiGateway.Configuration;

/// <summary>The upstream API family a provider speaks.</summary>
internal enum ProviderApi
{
    OpenAI,
    AzureOpenAI,
    Anthropic,
}

/// <summary>A validated provider with its credential resolved from its reference.</summary>
internal sealed class UpstreamProvider
{
    public required string Name { get; init; }

    public required ProviderApi Api { get; init; }

    /// <summary>Absolute base URL (for the embedded simulator, resolved when the proxy config is built).</summary>
    public required Uri BaseUrl { get; init; }

    public bool IsEmbeddedSimulator { get; init; }

    public string? ApiVersion { get; init; }

    /// <summary>The secret itself. Never logged, never serialised (see <see cref="ToString"/>).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Whether the W3C trace context is sent to this provider (off by default).</summary>
    public bool PropagateTraceContext { get; init; }

    /// <summary><c>httpVersion</c>: "1.1", "2", or null (HTTP/2 where TLS negotiates it, else HTTP/1.1).</summary>
    public string? HttpVersion { get; init; }

    public override string ToString() => $"{Name} ({Api}, {BaseUrl})";
}

/// <summary>One deployment of a model; its id is the YARP destination id.</summary>
internal sealed class UpstreamDeployment
{
    public required string DestinationId { get; init; }

    public required UpstreamProvider Provider { get; init; }

    public string? AzureDeployment { get; init; }

    /// <summary>The model name the upstream expects.</summary>
    public required string UpstreamModel { get; init; }
}

/// <summary>A public model name, its ceiling and the YARP cluster of its deployments.</summary>
internal sealed class ModelRoute
{
    public required string Name { get; init; }

    public required IReadOnlyList<string> Aliases { get; init; }

    public required MarkingLevel Ceiling { get; init; }

    public string? Description { get; init; }

    public required string ClusterId { get; init; }

    public required IReadOnlyList<UpstreamDeployment> Deployments { get; init; }

    public required FrozenDictionary<string, UpstreamDeployment> DeploymentsByDestination { get; init; }

    /// <summary>Limits protecting this model's deployments across all agencies.</summary>
    public RateLimiting.LimitSet Limits { get; init; } = RateLimiting.LimitSet.Unlimited;

    public RateLimiting.ModelPricing? Pricing { get; init; }

    /// <summary>The API of the deployments (validation keeps one API per model).</summary>
    public ProviderApi Api => Deployments[0].Provider.Api;
}

/// <summary>An agency as the gateway enforces it.</summary>
internal sealed class AgencyPolicy
{
    public required string Name { get; init; }

    public required string DisplayName { get; init; }

    public required string SourceFile { get; init; }

    public required ModelPatternSet Models { get; init; }

    public required IReadOnlyList<IdentityProviderConfig> IdentityProviders { get; init; }

    public required FrozenDictionary<string, RolePolicy> Roles { get; init; }

    public required FrozenDictionary<string, IReadOnlyList<string>> GroupRoles { get; init; }

    public required InspectionPolicy Inspection { get; init; }

    /// <summary>fail-closed (default) or fail-open when audit events cannot be recorded.</summary>
    public Audit.AuditFailurePolicy AuditOnFailure { get; init; }

    /// <summary>audit.captureContent: prompt and answer text of this agency's requests go to the separate content journal.</summary>
    public bool AuditCaptureContent { get; init; }

    public required RateLimiting.AgencyLimits Limits { get; init; }

    /// <summary>SCIM, directory mode, group roles, workloads and admin roles.</summary>
    public Scim.AgencyGovernance Governance { get; init; } = Scim.AgencyGovernance.None;
}

/// <summary>What to do with a marking level above the effective ceiling.</summary>
internal enum MarkingAction
{
    Block,
    Flag,
}

/// <summary>An agency's validated inspection policy.</summary>
internal sealed record InspectionPolicy(
    MarkingAction CuiAction,
    MarkingAction ConfidentialAction,
    MarkingAction SecretAction,
    MarkingAction TopSecretAction,
    bool FlagUnclassified,
    string? ClearanceClaim,
    bool InspectAnswers)
{
    public static InspectionPolicy Default { get; } = new(MarkingAction.Block, MarkingAction.Block, MarkingAction.Block, MarkingAction.Block, false, null, true);

    public MarkingAction ActionFor(MarkingLevel level) => level switch
    {
        MarkingLevel.Cui => CuiAction,
        MarkingLevel.Confidential => ConfidentialAction,
        MarkingLevel.Secret => SecretAction,
        _ => TopSecretAction,
    };
}

/// <summary>What one role grants, to people and to workloads.</summary>
internal sealed record RolePolicy(string Name, ModelPatternSet PersonModels, ModelPatternSet WorkloadModels, RateLimiting.LimitSet PerCallerLimits);

/// <summary>
/// One validated, immutable view of all configuration. A request pins the snapshot it started with,
/// so a reload never changes the rules halfway through a request.
/// </summary>
internal sealed class GatewaySnapshot
{
    public required long Version { get; init; }

    public required string ConfigDirectory { get; init; }

    public required RequestLimitsConfig RequestLimits { get; init; }

    public required ForwardingConfig Forwarding { get; init; }

    public required FrozenDictionary<string, UpstreamProvider> Providers { get; init; }

    /// <summary>Models in file order.</summary>
    public required IReadOnlyList<ModelRoute> Models { get; init; }

    /// <summary>Model names and aliases (case-insensitive) to their route.</summary>
    public required FrozenDictionary<string, ModelRoute> ModelsByName { get; init; }

    public required FrozenDictionary<string, AgencyPolicy> Agencies { get; init; }

    /// <summary>Audit journal and OTLP settings (read once at start-up; changes need a restart).</summary>
    public Audit.AuditSettings Audit { get; init; } = global::AiGateway.Audit.AuditSettings.Default;

    public required LimitStoreConfig LimitStore { get; init; }

    public bool UsesEmbeddedSimulator
    {
        get
        {
            foreach (var provider in Providers.Values)
            {
                if (provider.IsEmbeddedSimulator)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
