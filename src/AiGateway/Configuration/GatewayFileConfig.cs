using System.Text.Json.Serialization;

namespace AiGateway.Configuration;

// The shapes of config/gateway.json and config/agencies/<agency>.json as written by operators.
// Everything is optional here; GatewayConfigValidator turns these into a validated GatewaySnapshot
// and reports every problem at once with the file and JSON path.

/// <summary>config/gateway.json: listeners' limits, providers (upstreams) and model routes.</summary>
public sealed record GatewayFileConfig
{
    [JsonPropertyName("$schema")]
    public string? Schema { get; init; }

    public RequestLimitsConfig RequestLimits { get; init; } = new();

    public ForwardingConfig Forwarding { get; init; } = new();

    public Dictionary<string, ProviderConfig> Providers { get; init; } = [];

    public Dictionary<string, ModelConfig> Models { get; init; } = [];

    /// <summary>The audit journal and the OTLP export of audit events, traces and metrics.</summary>
    public Audit.AuditConfig Audit { get; init; } = new();

    /// <summary>Where limit counters live: the embedded single-node store (default) or Redis, shared by replicas.</summary>
    public LimitStoreConfig LimitStore { get; init; } = new();
}

/// <summary>The shared state store for rate limits, quotas and budgets.</summary>
public sealed record LimitStoreConfig
{
    /// <summary><c>embedded</c> (one node, in-process) or <c>redis</c>.</summary>
    public string Type { get; init; } = "embedded";

    /// <summary>StackExchange.Redis configuration string without the password, e.g. <c>redis:6379,ssl=true</c>.</summary>
    public string? Redis { get; init; }

    /// <summary>Where the Redis password is read from (env var or file), if Redis needs one.</summary>
    public CredentialReference? RedisPassword { get; init; }

    /// <summary>Longest wait for one Redis round trip before the store counts as failed.</summary>
    public int TimeoutMilliseconds { get; init; } = 500;

    /// <summary>After a store failure, how long requests skip Redis (and apply the agency's failure policy) before probing again.</summary>
    public double BreakSeconds { get; init; } = 5;
}

/// <summary>A set of limits; absent values are unlimited. Token limits count input plus output tokens.</summary>
public sealed record LimitSetConfig
{
    public long? RequestsPerMinute { get; init; }

    public long? TokensPerMinute { get; init; }

    /// <summary>Requests in flight at once (streams included).</summary>
    public long? ConcurrentRequests { get; init; }

    public long? TokensPerDay { get; init; }

    public long? TokensPerMonth { get; init; }

    /// <summary>Spend per UTC day in US dollars (prices per model in gateway.json).</summary>
    public decimal? CostPerDay { get; init; }

    /// <summary>Spend per UTC calendar month in US dollars.</summary>
    public decimal? CostPerMonth { get; init; }
}

/// <summary>Per-million-token prices of a model in US dollars.</summary>
public sealed record ModelPricingConfig
{
    public decimal InputPerMillion { get; init; }

    public decimal OutputPerMillion { get; init; }

    /// <summary>Price of input tokens read from the prompt cache; defaults to the input price.</summary>
    public decimal? CachedInputPerMillion { get; init; }

    /// <summary>Price of input tokens written to the prompt cache; defaults to the input price.</summary>
    public decimal? CacheWritePerMillion { get; init; }
}

/// <summary>An agency's limits.</summary>
public sealed record AgencyLimitsConfig
{
    /// <summary>Limits for each caller of the agency (the tightest of this, the granting role's and the caller's own applies).</summary>
    public LimitSetConfig PerCaller { get; init; } = new();

    /// <summary>Limits for the whole agency together.</summary>
    public LimitSetConfig Agency { get; init; } = new();

    /// <summary>Limits for named callers (subject id), tightening the others.</summary>
    public Dictionary<string, LimitSetConfig> Callers { get; init; } = [];

    /// <summary>Output tokens reserved when a request names no maximum.</summary>
    public int DefaultMaxOutputTokens { get; init; } = 1024;

    /// <summary>When the shared store is unreachable: <c>fail-closed</c> (503, default) or <c>fail-open</c> (local limits at <see cref="FailOpenShare"/>).</summary>
    public string OnStoreFailure { get; init; } = "fail-closed";

    /// <summary>Fraction of each limit one node enforces on its own while the shared store is down (fail-open).</summary>
    public double FailOpenShare { get; init; } = 0.5;

    /// <summary>Roles that may read usage through the admin API.</summary>
    public List<string> AdminRoles { get; init; } = [];
}

/// <summary>Bounds on what a client may send.</summary>
public sealed record RequestLimitsConfig
{
    /// <summary>Largest accepted request body in bytes (413 above). Default 8 MiB.</summary>
    public long MaxBodyBytes { get; init; } = 8 * 1024 * 1024;
}

/// <summary>How requests are sent upstream.</summary>
public sealed record ForwardingConfig
{
    /// <summary>Deployments tried for one request (first try included) on connect errors, 429 and 5xx.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Longest silence from an upstream (before headers, or between streamed chunks) before 504.</summary>
    public double UpstreamTimeoutSeconds { get; init; } = 120;

    /// <summary>How long a failing deployment is taken out of rotation when it gave no Retry-After.</summary>
    public double UnhealthyPeriodSeconds { get; init; } = 30;

    /// <summary>Longest Retry-After honoured from an upstream (a deployment is never parked longer).</summary>
    public double MaxRetryAfterSeconds { get; init; } = 300;

    /// <summary>
    /// Age after which a pooled upstream connection is not reused (closed once its request ends) and a new one is opened:
    /// a provider whose address changes in DNS (regional failover, a moved endpoint) is reached at the new address within
    /// this time even while steady traffic keeps every connection busy.
    /// </summary>
    public double ConnectionLifetimeSeconds { get; init; } = 300;
}

/// <summary>An upstream LLM service the gateway holds credentials for.</summary>
public sealed record ProviderConfig
{
    /// <summary><c>openai</c> (OpenAI and OpenAI-compatible servers), <c>azure-openai</c> or <c>anthropic</c>.</summary>
    public string? Api { get; init; }

    /// <summary>Base URL, e.g. https://api.openai.com, https://myres.openai.azure.us, or embedded://llm-simulator.</summary>
    public string? BaseUrl { get; init; }

    /// <summary>Azure OpenAI <c>api-version</c> query value.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Where the provider key is read from. Never the key itself.</summary>
    public CredentialReference? ApiKey { get; init; }

    /// <summary>Allow plain http to a non-loopback host (an in-cluster vLLM without TLS). Off by default.</summary>
    public bool AllowInsecureHttp { get; init; }

    /// <summary>Send the W3C trace context (<c>traceparent</c>) to this provider. Off by default: external vendors see no trace ids.</summary>
    public bool PropagateTraceContext { get; init; }

    /// <summary>
    /// Unset (default): HTTP/2 when TLS negotiates it (ALPN), else HTTP/1.1 — plain http stays HTTP/1.1. <c>2</c>: HTTP/2
    /// only — by ALPN over TLS, by prior knowledge (h2c) over plain http; the server must speak it. <c>1.1</c>: never
    /// HTTP/2. One version per model: 1.1 if any of its providers asks for 1.1, HTTP/2 only if all ask for 2.
    /// </summary>
    public string? HttpVersion { get; init; }
}

/// <summary>A reference to a secret: an environment variable or a file (e.g. a Kubernetes secret mount).</summary>
public sealed record CredentialReference
{
    public string? Env { get; init; }

    public string? File { get; init; }
}

/// <summary>A model as clients name it, and the deployments that serve it.</summary>
public sealed record ModelConfig
{
    /// <summary>Highest data marking this model may receive: UNCLASSIFIED, CUI, CONFIDENTIAL, SECRET or TOP SECRET.</summary>
    public string? Ceiling { get; init; }

    public List<string> Aliases { get; init; } = [];

    public string? Description { get; init; }

    public List<DeploymentConfig> Deployments { get; init; } = [];

    /// <summary>Limits protecting the deployments' purchased capacity, across all agencies.</summary>
    public LimitSetConfig Limits { get; init; } = new();

    /// <summary>Prices for cost budgets and audit.</summary>
    public ModelPricingConfig? Pricing { get; init; }
}

/// <summary>One upstream deployment of a model.</summary>
public sealed record DeploymentConfig
{
    /// <summary>Name of a provider in <c>providers</c>.</summary>
    public string? Provider { get; init; }

    /// <summary>Azure OpenAI deployment name (required for azure-openai providers).</summary>
    public string? Deployment { get; init; }

    /// <summary>The model name the upstream expects, when it differs from the public name.</summary>
    public string? Model { get; init; }
}

/// <summary>config/agencies/&lt;agency&gt;.json: one agency's identity, roles and policy.</summary>
public sealed record AgencyFileConfig
{
    [JsonPropertyName("$schema")]
    public string? Schema { get; init; }

    /// <summary>Must equal the file name without extension.</summary>
    public string? Name { get; init; }

    public string? DisplayName { get; init; }

    /// <summary>Models this agency may use at all: names, aliases or <c>*</c> wildcards.</summary>
    public List<string> Models { get; init; } = [];

    public AgencyIdentityConfig Identity { get; init; } = new();

    /// <summary>Role name → what the role grants.</summary>
    public Dictionary<string, RoleConfig> Roles { get; init; } = [];

    /// <summary>Group id (token <c>groups</c> claim) → roles it grants.</summary>
    public Dictionary<string, List<string>> Groups { get; init; } = [];

    /// <summary>What happens when prompts or answers carry markings above a model's ceiling.</summary>
    public InspectionConfig Inspection { get; init; } = new();

    /// <summary>What happens when audit events cannot be recorded.</summary>
    public Audit.AgencyAuditConfig Audit { get; init; } = new();

    /// <summary>Rate limits, quotas and budgets.</summary>
    public AgencyLimitsConfig Limits { get; init; } = new();

    /// <summary>The agency's SCIM 2.0 provisioning endpoint and its credential.</summary>
    public Scim.ScimConfig? Scim { get; init; }

    /// <summary>Directory mode and SCIM group → role mapping.</summary>
    public Scim.DirectoryConfig? Directory { get; init; }

    /// <summary>Workload (app-only / agent) identities by client app id, with their owner.</summary>
    public Dictionary<string, Scim.WorkloadConfig> Workloads { get; init; } = [];

    /// <summary>Roles that may use the admin APIs (access review, governance page, usage); <c>limits.adminRoles</c> also counts.</summary>
    public List<string> AdminRoles { get; init; } = [];
}

/// <summary>An agency's marking-inspection policy.</summary>
public sealed record InspectionConfig
{
    /// <summary>
    /// Action per marking level found above the effective ceiling: <c>block</c> (default: 403, nothing forwarded)
    /// or <c>flag</c> (forwarded and recorded). Keys: CUI, CONFIDENTIAL, SECRET, TOP SECRET.
    /// </summary>
    public Dictionary<string, string> Actions { get; init; } = [];

    /// <summary><c>allow</c> (default): UNCLASSIFIED markings are ordinary text; <c>flag</c>: record them.</summary>
    public string UnclassifiedMarkings { get; init; } = "allow";

    /// <summary>Token claim carrying the caller's clearance (a level name); when present the effective ceiling is the lower of model and caller.</summary>
    public string? ClearanceClaim { get; init; }

    /// <summary>Scan answers (JSON and streamed) too. On by default.</summary>
    public bool InspectAnswers { get; init; } = true;
}

/// <summary>Who may sign tokens for this agency.</summary>
public sealed record AgencyIdentityConfig
{
    public List<IdentityProviderConfig> Providers { get; init; } = [];
}

/// <summary>One token issuer trusted by an agency.</summary>
public sealed record IdentityProviderConfig
{
    /// <summary><c>entra</c> (Microsoft Entra ID via Microsoft.Identity.Web), <c>oidc</c> (any OIDC issuer) or <c>dev</c> (the local dev issuer; never in Production).</summary>
    public string? Type { get; init; }

    /// <summary>Entra: cloud instance, https://login.microsoftonline.com/ or https://login.microsoftonline.us/.</summary>
    public string? Instance { get; init; }

    /// <summary>Entra: directory (tenant) id.</summary>
    public string? TenantId { get; init; }

    /// <summary>Entra: the gateway's application (client) id.</summary>
    public string? ClientId { get; init; }

    /// <summary>OIDC: issuer URL whose /.well-known/openid-configuration is fetched.</summary>
    public string? Authority { get; init; }

    /// <summary>OIDC: explicit discovery document URL when it is not under the authority.</summary>
    public string? MetadataAddress { get; init; }

    /// <summary>Accepted <c>aud</c> values.</summary>
    public List<string> Audiences { get; init; } = [];

    /// <summary>Allow http metadata (loopback test issuers only).</summary>
    public bool RequireHttpsMetadata { get; init; } = true;

    /// <summary>Claim names when the issuer does not use Entra's.</summary>
    public ClaimNamesConfig Claims { get; init; } = new();
}

/// <summary>Which token claims carry the caller's facts.</summary>
public sealed record ClaimNamesConfig
{
    public string? Subject { get; init; }

    public string? Roles { get; init; }

    public string? Groups { get; init; }

    public string? Name { get; init; }
}

/// <summary>What one role grants.</summary>
public sealed record RoleConfig
{
    /// <summary>Models people holding the role may use: names, aliases or <c>*</c> wildcards.</summary>
    public List<string> Models { get; init; } = [];

    /// <summary>Models workloads (app-only callers) holding the role may use; defaults to <see cref="Models"/>.</summary>
    public List<string>? WorkloadModels { get; init; }

    /// <summary>Limits for each caller using a model through this role.</summary>
    public LimitSetConfig Limits { get; init; } = new();
}
