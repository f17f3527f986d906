using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using AiGateway.Configuration;
using AiGateway.Parsing;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.Forwarding;

/// <summary>
/// The HTTP client towards the providers: YARP's, with three changes. The W3C trace context is sent only to clusters
/// whose providers all opt in (<c>propagateTraceContext</c>): external vendors should not learn the agency's trace
/// ids. Pooled connections are replaced after <c>forwarding.connectionLifetimeSeconds</c> (YARP's default keeps them
/// for as long as traffic does, so a provider's DNS change is never followed). And the request body goes out with the
/// request headers in one write (<see cref="BufferedBodyHandler"/>).
/// </summary>
internal sealed class UpstreamHttpClientFactory : ForwarderHttpClientFactory
{
    // The settings travel as cluster metadata (GatewayProxyConfigProvider): a reload that changes only them changes the
    // cluster, and YARP then asks whether the old client can stay (CanReuseOldClient), which it can only while they agree.
    internal const string PropagateTraceContextKey = "aigateway.propagateTraceContext";
    internal const string ConnectionLifetimeKey = "aigateway.connectionLifetimeSeconds";

    public UpstreamHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger)
        : base(logger)
    {
    }

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        var metadata = context.NewMetadata;
        if (metadata?.GetValueOrDefault(ConnectionLifetimeKey) is { } lifetime)
        {
            handler.PooledConnectionLifetime = TimeSpan.FromSeconds(double.Parse(lifetime, CultureInfo.InvariantCulture));
        }

        // Deny unless the cluster says so: external vendors do not get the agency's trace ids.
        if (metadata?.GetValueOrDefault(PropagateTraceContextKey) != "true")
        {
            handler.ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator();
        }
    }

    protected override bool CanReuseOldClient(ForwarderHttpClientContext context) =>
        base.CanReuseOldClient(context)
        && context.OldMetadata?.GetValueOrDefault(PropagateTraceContextKey) == context.NewMetadata?.GetValueOrDefault(PropagateTraceContextKey)
        && context.OldMetadata?.GetValueOrDefault(ConnectionLifetimeKey) == context.NewMetadata?.GetValueOrDefault(ConnectionLifetimeKey);

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new BufferedBodyHandler { InnerHandler = base.WrapHandler(context, handler) };

    /// <summary>The handler settings of a model's cluster, as cluster metadata.</summary>
    internal static Dictionary<string, string> Metadata(GatewaySnapshot snapshot, ModelRoute model) => new(StringComparer.Ordinal)
    {
        [PropagateTraceContextKey] = Propagates(model) ? "true" : "false",
        [ConnectionLifetimeKey] = snapshot.Forwarding.ConnectionLifetimeSeconds.ToString(CultureInfo.InvariantCulture),
    };

    internal static bool Propagates(ModelRoute model)
    {
        if (model.Deployments.Count == 0)
        {
            return false;
        }

        foreach (var deployment in model.Deployments)
        {
            if (!deployment.Provider.PropagateTraceContext)
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// Sends the body the gateway has already read and inspected as a content of known length. YARP's own request content
/// streams the client's body and flushes the headers before it, so every upstream request cost two socket writes
/// (and two TCP segments); a buffered body needs neither the flush nor the stream. YARP does not let a transform
/// replace its content, so it is replaced here, below YARP, for requests that carry a body set by
/// <see cref="UpstreamRequestTransform"/> (all of them).
/// </summary>
internal sealed class BufferedBodyHandler : DelegatingHandler
{
    internal static readonly HttpRequestOptionsKey<BufferedBodyContent> BodyKey = new("AiGateway.Body");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(BodyKey, out var content))
        {
            request.Content = content;
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>
/// One forwarding attempt's body: the client's bytes (the pooled buffer of <see cref="RequestBody"/>, held for as
/// long as a write from it is in progress, so a late HTTP/2 body send can never read a buffer already given to
/// another request) or the rewritten ones.
/// </summary>
internal sealed class BufferedBodyContent : HttpContent
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly RequestBody _body;
    private readonly byte[]? _replacement;

    public BufferedBodyContent(RequestBody body, byte[]? replacement)
    {
        _body = body;
        _replacement = replacement;
        Headers.ContentType = s_json;
        Headers.ContentLength = Length;
    }

    private int Length => _replacement?.Length ?? _body.Length;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (_replacement is not null)
        {
            await stream.WriteAsync(_replacement, cancellationToken);
            return;
        }

        using var lease = _body.Hold();
        await stream.WriteAsync(lease.Memory, cancellationToken);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = Length;
        return true;
    }
}
