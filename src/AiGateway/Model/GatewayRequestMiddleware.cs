using System.Diagnostics;
using AiGateway.Audit;
using AiGateway.Configuration;

namespace AiGateway.Model;

/// <summary>
/// The outermost gateway step: creates the request's <see cref="GatewayRequestFeature"/> (pinning the current
/// configuration), answers unknown endpoints with a 404 in the caller's dialect, and turns any unhandled
/// exception into a clean 500 without a stack trace. The per-request audit event is emitted here.
/// </summary>
internal sealed partial class GatewayRequestMiddleware
{
    private readonly RequestDelegate _next;
    private readonly GatewayConfigStore _config;
    private readonly ILogger<GatewayRequestMiddleware> _logger;
    private readonly AuditRecorder _audit;
    private readonly TimeProvider _time;

    public GatewayRequestMiddleware(RequestDelegate next, GatewayConfigStore config, ILogger<GatewayRequestMiddleware> logger, AuditRecorder audit, TimeProvider time)
    {
        _next = next;
        _config = config;
        _logger = logger;
        _audit = audit;
        _time = time;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase))
        {
            await _next(context); // probes are not gateway requests: no feature, no audit event
            return;
        }

        var endpoint = ApiEndpoint.Classify(context.Request.Path);
        var feature = new GatewayRequestFeature(endpoint, _config.Current, Stopwatch.GetTimestamp());
        context.Features.Set(feature);
        context.Response.OnStarting(s_addOverheadHeader, context);
        try
        {
            await _next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            Log.UnhandledException(_logger, ex);
            context.Response.Clear();
            await context.RejectAsync(GatewayError.Internal());
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        finally
        {
            // One audit event per request, allowed or denied (stage 9).
            _audit.Record(AuditEvent.Capture(context, feature, Stopwatch.GetTimestamp(), _time));
        }
    }

    private static readonly Func<object, Task> s_addOverheadHeader = static state =>
    {
        // The gateway's own processing time so far, upstream waiting excluded, so users can see what it costs them.
        var context = (HttpContext)state;
        var feature = context.Features.Get<GatewayRequestFeature>()!;
        var ticks = Stopwatch.GetTimestamp() - feature.StartTimestamp - feature.UpstreamWaitTicks;
        context.Response.Headers["x-gateway-overhead-ms"] = (ticks * 1000.0 / Stopwatch.Frequency).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    };

    /// <summary>Endpoint for every path the gateway does not serve.</summary>
    public static Task UnknownEndpointAsync(HttpContext context) =>
        context.RejectAsync(GatewayError.UnknownEndpoint(context.Request.Method, context.Request.Path));

    private static partial class Log
    {
        [LoggerMessage(EventIds.UnhandledException, LogLevel.Error, "Unhandled exception while processing a request.", EventName = "UnhandledException")]
        public static partial void UnhandledException(ILogger logger, Exception exception);
    }
}
