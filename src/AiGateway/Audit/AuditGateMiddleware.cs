using AiGateway.Model;
using AiGateway.Telemetry;

namespace AiGateway.Audit;

/// <summary>
/// Stage 9's guard, right after the caller is known: while audit events cannot be recorded, an agency with
/// <c>fail-closed</c> (the default) gets 503 <c>audit_unavailable</c> for new requests — nothing is forwarded
/// without a record — and an agency with <c>fail-open</c> is served, counted and alerted on.
/// </summary>
internal sealed partial class AuditGateMiddleware
{
    private readonly RequestDelegate _next;
    private readonly AuditRecorder _recorder;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<AuditGateMiddleware> _logger;

    public AuditGateMiddleware(RequestDelegate next, AuditRecorder recorder, GatewayMetrics metrics, ILogger<AuditGateMiddleware> logger)
    {
        _next = next;
        _recorder = recorder;
        _metrics = metrics;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var agency = feature.Caller?.Agency;
        var agencyPolicy = agency is not null && feature.Config.Agencies.TryGetValue(agency, out var a) ? a : null;

        // Only an agency that opted in (audit.captureContent) has its prompt and answer text kept, for the content journal.
        feature.CaptureContent = agencyPolicy?.AuditCaptureContent ?? false;
        if (_recorder.IsAvailable && (!feature.CaptureContent || _recorder.IsContentAvailable))
        {
            return _next(context);
        }

        var policy = agencyPolicy?.AuditOnFailure ?? AuditFailurePolicy.FailClosed;
        if (policy == AuditFailurePolicy.FailOpen)
        {
            _metrics.AuditFailOpenServed(agency!);
            Log.ServedWithoutRecord(_logger, agency!);
            return _next(context);
        }

        Log.Refused(_logger, agency ?? "unknown");
        context.Response.Headers.RetryAfter = "5";
        return context.RejectAsync(new GatewayError(StatusCodes.Status503ServiceUnavailable, "audit_unavailable",
            "The gateway cannot record requests in its audit trail right now, and this agency requires it. Try again later."));
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.AuditRefused, LogLevel.Error, "Request of agency {Agency} refused: the audit journal is unavailable (fail-closed).", EventName = "AuditRefused")]
        public static partial void Refused(ILogger logger, string agency);

        [LoggerMessage(EventIds.AuditServedWithoutRecord, LogLevel.Critical, "Request of agency {Agency} served while the audit journal is unavailable (fail-open).", EventName = "AuditServedWithoutRecord")]
        public static partial void ServedWithoutRecord(ILogger logger, string agency);
    }
}
