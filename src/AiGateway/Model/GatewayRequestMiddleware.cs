using System.Diagnostics;
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

    public GatewayRequestMiddleware(RequestDelegate next, GatewayConfigStore config, ILogger<GatewayRequestMiddleware> logger)
    {
        _next = next;
        _config = config;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = ApiEndpoint.Classify(context.Request.Path);
        var feature = new GatewayRequestFeature(endpoint, _config.Current, Stopwatch.GetTimestamp());
        context.Features.Set(feature);
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
    }

    /// <summary>Endpoint for every path the gateway does not serve.</summary>
    public static Task UnknownEndpointAsync(HttpContext context) =>
        context.RejectAsync(GatewayError.UnknownEndpoint(context.Request.Method, context.Request.Path));

    private static partial class Log
    {
        [LoggerMessage(EventIds.UnhandledException, LogLevel.Error, "Unhandled exception while processing a request.", EventName = "UnhandledException")]
        public static partial void UnhandledException(ILogger logger, Exception exception);
    }
}
