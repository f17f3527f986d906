using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using AiGateway.Model;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace AiGateway.Forwarding;

/// <summary>
/// Sends the request to one deployment of the model's cluster and, when that deployment refuses the
/// connection or answers 429/5xx before any byte reached the client, to the next one (bounded attempts).
/// A failing deployment is parked through YARP's passive health state for its Retry-After or the configured
/// period. Forwarder failures become clean errors in the caller's dialect.
/// </summary>
internal sealed partial class FailoverMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IDestinationHealthUpdater _health;
    private readonly IProxyStateLookup _proxyState;
    private readonly ILogger<FailoverMiddleware> _logger;

    public FailoverMiddleware(RequestDelegate next, IDestinationHealthUpdater health, IProxyStateLookup proxyState, ILogger<FailoverMiddleware> logger)
    {
        _next = next;
        _health = health;
        _proxyState = proxyState;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var proxy = context.GetReverseProxyFeature();
        var forwarding = feature.Config.Forwarding;
        _proxyState.TryGetCluster(proxy.Cluster.Config.ClusterId, out var cluster);

        var remaining = new List<DestinationState>(proxy.AvailableDestinations);
        var maxAttempts = Math.Min(forwarding.MaxAttempts, Math.Max(1, remaining.Count));
        for (var attempt = 1; ; attempt++)
        {
            feature.Attempts = attempt;
            feature.CanRetry = attempt < maxAttempts && remaining.Count > 1;
            proxy.AvailableDestinations = remaining.ToArray();
            context.Features.Set<IForwarderErrorFeature>(null);

            await _next(context);

            var destination = proxy.ProxiedDestination;
            if (destination is null)
            {
                break; // nothing was tried (no destination available)
            }

            var failure = ClassifyFailure(context);
            if (failure is null)
            {
                break;
            }

            if (cluster is not null && forwarding.UnhealthyPeriodSeconds > 0)
            {
                var period = ParkingPeriod(context, failure.Value, forwarding);
                _health.SetPassive(cluster, destination, DestinationHealth.Unhealthy, period);
                Log.UpstreamParked(_logger, destination.DestinationId, proxy.Cluster.Config.ClusterId, period.TotalSeconds);
            }

            if (!failure.Value.Retryable || !feature.CanRetry || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            {
                break;
            }

            Log.UpstreamAttemptFailed(_logger, destination.DestinationId, proxy.Cluster.Config.ClusterId, attempt, failure.Value.Reason);
            remaining.Remove(destination);
            context.Response.Clear();
        }

        await WriteForwarderErrorAsync(context);
    }

    private readonly record struct Failure(bool Retryable, string Reason, bool HonourRetryAfter);

    /// <summary>What went wrong with the last attempt, or null when it succeeded (or failed for a reason that is not the upstream's).</summary>
    private static Failure? ClassifyFailure(HttpContext context)
    {
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is not null)
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                return null; // the client left; not the upstream's fault
            }

            return error.Error switch
            {
                ForwarderError.Request when IsConnectFailure(error.Exception) => new Failure(true, "connect", false),
                ForwarderError.Request or ForwarderError.ResponseHeaders or ForwarderError.RequestBodyDestination
                    or ForwarderError.ResponseBodyDestination => new Failure(false, error.Error.ToString(), false),
                ForwarderError.RequestTimedOut => new Failure(false, "timeout", false),
                _ => null,
            };
        }

        var status = context.Response.StatusCode;
        if (status == StatusCodes.Status429TooManyRequests || status >= 500)
        {
            return new Failure(true, status.ToString(CultureInfo.InvariantCulture), true);
        }

        return null;
    }

    private static bool IsConnectFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
            {
                return true;
            }

            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostNotFound })
            {
                return true;
            }
        }

        return false;
    }

    private static TimeSpan ParkingPeriod(HttpContext context, Failure failure, Configuration.ForwardingConfig forwarding)
    {
        var period = TimeSpan.FromSeconds(forwarding.UnhealthyPeriodSeconds);
        if (failure.HonourRetryAfter && TryGetRetryAfter(context.Response.Headers, out var retryAfter))
        {
            var max = TimeSpan.FromSeconds(forwarding.MaxRetryAfterSeconds);
            period = retryAfter > max ? max : retryAfter;
        }

        return period < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : period;
    }

    internal static bool TryGetRetryAfter(IHeaderDictionary headers, out TimeSpan retryAfter)
    {
        retryAfter = default;
        var value = headers[HeaderNames.RetryAfter].ToString();
        if (value.Length == 0)
        {
            return false;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            retryAfter = TimeSpan.FromSeconds(seconds);
            return true;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var delta = date - DateTimeOffset.UtcNow;
            retryAfter = delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
            return true;
        }

        return false;
    }

    /// <summary>YARP leaves a bare status on forwarder errors; the client gets a body in its dialect instead.</summary>
    private Task WriteForwarderErrorAsync(HttpContext context)
    {
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null || context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        if (context.Response.HasStarted)
        {
            // The stream broke after bytes reached the client: YARP aborts the connection, nothing more to send.
            Log.UpstreamFailedAfterStart(_logger, error.Error.ToString());
            return Task.CompletedTask;
        }

        var gatewayError = error.Error switch
        {
            ForwarderError.RequestTimedOut => GatewayError.UpstreamTimeout(),
            ForwarderError.NoAvailableDestinations => GatewayError.NoHealthyUpstream(),
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled => null,
            ForwarderError.RequestBodyClient => GatewayError.InvalidRequest("The request body could not be read from the client."),
            _ => GatewayError.UpstreamUnreachable(),
        };
        if (gatewayError is null)
        {
            return Task.CompletedTask;
        }

        context.Response.Clear();
        return context.RejectAsync(gatewayError);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.UpstreamAttemptFailed, LogLevel.Warning, "Deployment {DestinationId} of {ClusterId} failed attempt {Attempt} ({Reason}); trying the next deployment.", EventName = "UpstreamAttemptFailed")]
        public static partial void UpstreamAttemptFailed(ILogger logger, string destinationId, string clusterId, int attempt, string reason);

        [LoggerMessage(EventIds.UpstreamParked, LogLevel.Information, "Deployment {DestinationId} of {ClusterId} taken out of rotation for {Seconds} s.", EventName = "UpstreamParked")]
        public static partial void UpstreamParked(ILogger logger, string destinationId, string clusterId, double seconds);

        [LoggerMessage(EventIds.UpstreamFailedAfterStart, LogLevel.Warning, "The upstream failed after the response started ({Error}); the client connection is aborted.", EventName = "UpstreamFailedAfterStart")]
        public static partial void UpstreamFailedAfterStart(ILogger logger, string error);
    }
}
