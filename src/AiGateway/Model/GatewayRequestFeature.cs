using AiGateway.Configuration;
using AiGateway.Parsing;

namespace AiGateway.Model;

/// <summary>
/// The one per-request state of the gateway, set by the outermost gateway middleware and narrowed by
/// each stage (caller, parsed request, model route, chosen deployment, decision) — the way YARP's
/// <c>IReverseProxyFeature</c> is. No stage re-parses what an earlier stage found.
/// </summary>
internal sealed class GatewayRequestFeature
{
    public GatewayRequestFeature(ApiEndpoint endpoint, GatewaySnapshot config, long startTimestamp)
    {
        Endpoint = endpoint;
        Config = config;
        StartTimestamp = startTimestamp;
    }

    public ApiEndpoint Endpoint { get; }

    /// <summary>The configuration this request runs under, pinned at its start.</summary>
    public GatewaySnapshot Config { get; }

    public long StartTimestamp { get; }

    public Caller? Caller { get; set; }

    /// <summary>
    /// The bearer token once read from the request (several authentication steps need it; a token is ~1–2 KB of
    /// text, so it is cut out of the header once). Set only by <c>GatewayAuthentication.GetBearerToken</c>.
    /// </summary>
    public (bool Read, string? Token) BearerToken { get; set; }

    public RequestBody? Body { get; set; }

    public LlmRequest? Request { get; set; }

    public ModelRoute? Model { get; set; }

    /// <summary>The deployment of the current (or last) forwarding attempt.</summary>
    public UpstreamDeployment? Deployment { get; set; }

    public int Attempts { get; set; }

    /// <summary>What prompt inspection found and decided.</summary>
    public Inspection.InspectionOutcome? PromptInspection { get; set; }

    /// <summary>What answer inspection found and decided (set when the answer had markings).</summary>
    public Inspection.InspectionOutcome? AnswerInspection { get; set; }

    /// <summary>True while a failed attempt can still be retried on another deployment (its body is then not sent to the client).</summary>
    public bool CanRetry { get; set; }

    /// <summary>Why the gateway refused or failed the request, as an error code (null when forwarded).</summary>
    public string? DenialCode { get; set; }

    /// <summary>Characters of answer text passed to the client so far (charges a stream the client abandoned).</summary>
    public long AnswerCharacters { get; set; }

    /// <summary>The role that granted the model (set by entitlement), for limits and audit.</summary>
    public string? GrantingRole { get; set; }

    /// <summary>Token usage reported by the provider (or counted), once known.</summary>
    public TokenUsage? Usage { get; set; }

    /// <summary>Rate-limit and budget state for this request, once checked.</summary>
    public LimitOutcome? Limits { get; set; }

    /// <summary>Timestamp when the first response byte from the upstream arrived, for time-to-first-byte.</summary>
    public long UpstreamStartTimestamp { get; set; }

    /// <summary>When the current attempt was sent upstream.</summary>
    public long UpstreamSendTimestamp { get; set; }

    /// <summary>Time spent waiting for upstreams (all attempts), in Stopwatch ticks: excluded from the gateway's own overhead.</summary>
    public long UpstreamWaitTicks { get; set; }

    /// <summary>Most answer characters kept for the content journal; the rest is cut and marked truncated.</summary>
    public const int MaxAnswerContentChars = 1024 * 1024;

    /// <summary>The caller's agency has <c>audit.captureContent</c>: prompt and answer text go to the content journal (set by the audit gate).</summary>
    public bool CaptureContent { get; set; }

    /// <summary>Answer text kept for the content journal; null unless <see cref="CaptureContent"/>.</summary>
    public System.Text.StringBuilder? AnswerContent { get; private set; }

    /// <summary>True when the answer text exceeded <see cref="MaxAnswerContentChars"/> and was cut.</summary>
    public bool AnswerContentTruncated { get; private set; }

    /// <summary>Keeps answer text for the content journal, bounded; does nothing unless the agency captures content.</summary>
    public void AppendAnswerContent(string text)
    {
        if (!CaptureContent || AnswerContentTruncated)
        {
            return;
        }

        AnswerContent ??= new System.Text.StringBuilder();
        var room = MaxAnswerContentChars - AnswerContent.Length;
        if (text.Length > room)
        {
            AnswerContent.Append(text, 0, room);
            AnswerContentTruncated = true;
            return;
        }

        AnswerContent.Append(text);
    }
}

/// <summary>Access to the gateway feature.</summary>
internal static class GatewayRequestFeatureExtensions
{
    public static GatewayRequestFeature GetGatewayFeature(this HttpContext context) =>
        context.Features.Get<GatewayRequestFeature>()
        ?? throw new InvalidOperationException("The gateway request middleware did not run for this request.");

    /// <summary>Writes a gateway error in the request's dialect and records the denial code.</summary>
    public static Task RejectAsync(this HttpContext context, GatewayError error)
    {
        var feature = context.Features.Get<GatewayRequestFeature>();
        var dialect = feature?.Endpoint.Dialect ?? ApiEndpoint.Classify(context.Request.Path).Dialect;
        if (feature is not null)
        {
            feature.DenialCode = error.Code;
        }

        return error.WriteAsync(context, dialect);
    }
}
