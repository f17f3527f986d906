using System.Diagnostics;
using System.Net;
using AiGateway.Configuration;
using AiGateway.Entitlements;
using AiGateway.Inspection;
using AiGateway.Model;

namespace AiGateway.Audit;

/// <summary>The outcome of one request as the audit trail states it.</summary>
internal enum AuditDecision
{
    /// <summary>Forwarded and answered.</summary>
    Allowed,

    /// <summary>Refused by the gateway (authentication, entitlement, size, unknown model or URL, limits, audit unavailable).</summary>
    Denied,

    /// <summary>Refused by marking inspection (prompt or answer above the effective ceiling).</summary>
    Blocked,

    /// <summary>Forwarded, but the upstream failed or could not be reached.</summary>
    UpstreamError,

    /// <summary>The client went away before the answer was complete.</summary>
    ClientAborted,

    /// <summary>The gateway failed (unhandled exception).</summary>
    Error,
}

/// <summary>
/// One request's audit record: who, agency, roles, model, upstream, decision and reason, markings (kind and level,
/// never the text), tokens, limits, timings and status. Captured once at the end of the request from the gateway
/// feature (cheap: references to immutable state), serialised to OCSF on the journal writer's thread.
/// </summary>
internal sealed class AuditEvent
{
    public required Guid EventId { get; init; }

    /// <summary>Request start, Unix epoch milliseconds.</summary>
    public required long StartTimeUnixMs { get; init; }

    public required long EndTimeUnixMs { get; init; }

    public required string RequestId { get; init; }

    public string? TraceId { get; init; }

    public string? SpanId { get; init; }

    public Caller? Caller { get; init; }

    /// <summary>The role that granted the model (null when none did or no model was resolved).</summary>
    public string? GrantingRole { get; init; }

    public IPAddress? ClientIp { get; init; }

    public int ClientPort { get; init; }

    public string? UserAgent { get; init; }

    public required string HttpMethod { get; init; }

    public required string Path { get; init; }

    public required ApiEndpoint Endpoint { get; init; }

    /// <summary>The model as the client named it.</summary>
    public string? RequestedModel { get; init; }

    /// <summary>The resolved public model name.</summary>
    public string? Model { get; init; }

    public Markings.MarkingLevel? ModelCeiling { get; init; }

    public bool Stream { get; init; }

    public UpstreamDeployment? Deployment { get; init; }

    public int Attempts { get; init; }

    public required AuditDecision Decision { get; init; }

    public string? ReasonCode { get; init; }

    public required int StatusCode { get; init; }

    public InspectionOutcome? PromptInspection { get; init; }

    public InspectionOutcome? AnswerInspection { get; init; }

    public TokenUsage? Usage { get; init; }

    /// <summary>Cost in US dollars from the model's prices and the reported usage; null when either is unknown.</summary>
    public decimal? EstimatedCost { get; init; }

    public LimitOutcome? Limits { get; init; }

    public required double TotalMs { get; init; }

    public double? UpstreamMs { get; init; }

    public double? TimeToFirstByteMs { get; init; }

    /// <summary>Prompt and answer text, only for an agency with <c>audit.captureContent</c>; written to the content journal alone.</summary>
    public AuditContent? Content { get; init; }

    /// <summary>Builds the event of a finished request.</summary>
    public static AuditEvent Capture(HttpContext context, GatewayRequestFeature feature, long endTimestamp, TimeProvider time)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var total = Stopwatch.GetElapsedTime(feature.StartTimestamp, endTimestamp).TotalMilliseconds;
        var aborted = context.RequestAborted.IsCancellationRequested;
        var status = context.Response.StatusCode;
        var (decision, reason) = Decide(feature, status, aborted);

        var caller = feature.Caller;
        var model = feature.Model;
        string? grantingRole = null;
        if (caller is not null && model is not null && feature.Config.Agencies.TryGetValue(caller.Agency, out var agency))
        {
            grantingRole = Entitlement.GrantingRole(caller, agency, model);
        }

        double? upstreamMs = null;
        if (context.Features.Get<UpstreamTimingFeature>() is { } timing)
        {
            upstreamMs = Stopwatch.GetElapsedTime(timing.FirstAttemptTimestamp, endTimestamp).TotalMilliseconds;
        }

        double? ttfb = feature.UpstreamStartTimestamp != 0
            ? Stopwatch.GetElapsedTime(feature.StartTimestamp, feature.UpstreamStartTimestamp).TotalMilliseconds
            : null;

        var activity = Activity.Current;
        var connection = context.Connection;
        return new AuditEvent
        {
            EventId = Uuid.NewVersion7(DateTimeOffset.FromUnixTimeMilliseconds(nowMs)),
            StartTimeUnixMs = nowMs - (long)total,
            EndTimeUnixMs = nowMs,
            RequestId = context.TraceIdentifier,
            TraceId = activity?.TraceId.ToHexString(),
            SpanId = activity?.SpanId.ToHexString(),
            Caller = caller,
            GrantingRole = grantingRole,
            ClientIp = connection.RemoteIpAddress,
            ClientPort = connection.RemotePort,
            UserAgent = context.Request.Headers.UserAgent.ToString() is { Length: > 0 } ua ? ua : null,
            HttpMethod = context.Request.Method,
            Path = context.Request.Path.Value ?? "/",
            Endpoint = feature.Endpoint,
            RequestedModel = feature.Request?.Model,
            Model = model?.Name,
            ModelCeiling = model?.Ceiling,
            Stream = feature.Request?.Stream ?? false,
            Deployment = feature.Deployment,
            Attempts = feature.Attempts,
            Decision = decision,
            ReasonCode = reason,
            StatusCode = status,
            PromptInspection = feature.PromptInspection,
            AnswerInspection = feature.AnswerInspection,
            Usage = feature.Usage,
            EstimatedCost = feature.Usage is { } usage && feature.Model?.Pricing is { } pricing
                ? pricing.CostMicros(usage.PromptTokens, usage.CompletionTokens, usage.CachedPromptTokens, usage.CacheCreationTokens) / 1_000_000m
                : null,
            Limits = feature.Limits,
            TotalMs = total,
            UpstreamMs = upstreamMs,
            TimeToFirstByteMs = ttfb,
            Content = AuditContent.Capture(feature),
        };
    }

    /// <summary>Decision and reason code from what the stages recorded.</summary>
    internal static (AuditDecision Decision, string? Reason) Decide(GatewayRequestFeature feature, int status, bool aborted)
    {
        var code = feature.DenialCode;
        if (aborted)
        {
            return (AuditDecision.ClientAborted, code ?? "client_aborted");
        }

        if (code is not null)
        {
            if (code == "classified_content_blocked")
            {
                return (AuditDecision.Blocked, code);
            }

            if (code == "internal_error")
            {
                return (AuditDecision.Error, code);
            }

            return code.StartsWith("upstream_", StringComparison.Ordinal) && feature.Attempts > 0
                ? (AuditDecision.UpstreamError, code)
                : (AuditDecision.Denied, code);
        }

        if (status >= 400)
        {
            return feature.Attempts > 0
                ? (AuditDecision.UpstreamError, UpstreamStatusCode(status))
                : (AuditDecision.Denied, "status_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return (AuditDecision.Allowed, null);
    }

    private static string UpstreamStatusCode(int status) => status switch
    {
        429 => "upstream_status_429",
        500 => "upstream_status_500",
        502 => "upstream_status_502",
        503 => "upstream_status_503",
        504 => "upstream_status_504",
        _ => "upstream_status_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static string DecisionName(AuditDecision decision) => decision switch
    {
        AuditDecision.Allowed => "allowed",
        AuditDecision.Denied => "denied",
        AuditDecision.Blocked => "blocked",
        AuditDecision.UpstreamError => "upstream_error",
        AuditDecision.ClientAborted => "client_aborted",
        _ => "error",
    };
}

/// <summary>When the first forwarding attempt started (set by the upstream request transform), for the upstream duration.</summary>
internal sealed class UpstreamTimingFeature(long firstAttemptTimestamp)
{
    public long FirstAttemptTimestamp { get; } = firstAttemptTimestamp;

    /// <summary>Request transform: marks the first attempt only.</summary>
    public static ValueTask MarkAsync(Yarp.ReverseProxy.Transforms.RequestTransformContext context)
    {
        var features = context.HttpContext.Features;
        if (features.Get<UpstreamTimingFeature>() is null)
        {
            features.Set(new UpstreamTimingFeature(Stopwatch.GetTimestamp()));
        }

        return ValueTask.CompletedTask;
    }
}
