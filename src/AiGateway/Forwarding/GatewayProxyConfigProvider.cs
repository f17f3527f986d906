using AiGateway.Configuration;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.Forwarding;

/// <summary>
/// Translates the gateway configuration into YARP routes and clusters: one route per supported API path
/// (all landing on a placeholder cluster), one cluster per model whose destinations are its deployments.
/// The model is only known after the body is parsed, so the request is reassigned to the model's cluster then.
/// </summary>
internal sealed class GatewayProxyConfigProvider : IProxyConfigProvider
{
    /// <summary>The cluster a route points at until the model's cluster is assigned. It has no destinations.</summary>
    public const string UnroutedClusterId = "$unrouted";

    private readonly GatewayConfigStore _store;
    private readonly EmbeddedSimulator _simulator;

    public GatewayProxyConfigProvider(GatewayConfigStore store, EmbeddedSimulator simulator)
    {
        _store = store;
        _simulator = simulator;
    }

    public IProxyConfig GetConfig() => new Snapshot(Build(_store.Current), _store.GetChangeToken());

    internal static readonly (string RouteId, string Path)[] ApiRoutes =
    [
        ("openai-chat-completions", "/v1/chat/completions"),
        ("openai-responses", "/v1/responses"),
        ("openai-embeddings", "/v1/embeddings"),
        ("anthropic-messages", "/v1/messages"),
        ("azure-chat-completions", "/openai/deployments/{deployment}/chat/completions"),
        ("azure-embeddings", "/openai/deployments/{deployment}/embeddings"),
    ];

    private (List<RouteConfig> Routes, List<ClusterConfig> Clusters) Build(GatewaySnapshot snapshot)
    {
        var routes = new List<RouteConfig>(ApiRoutes.Length);
        foreach (var (id, path) in ApiRoutes)
        {
            routes.Add(new RouteConfig
            {
                RouteId = id,
                ClusterId = UnroutedClusterId,
                Match = new RouteMatch { Path = path, Methods = ["POST"] },
            });
        }

        var clusters = new List<ClusterConfig>(snapshot.Models.Count + 1)
        {
            new() { ClusterId = UnroutedClusterId },
        };

        var forwarding = snapshot.Forwarding;
        foreach (var model in snapshot.Models)
        {
            var destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
            foreach (var deployment in model.Deployments)
            {
                var address = deployment.Provider.IsEmbeddedSimulator ? _simulator.GetAddress() : deployment.Provider.BaseUrl;
                destinations[deployment.DestinationId] = new DestinationConfig { Address = address.AbsoluteUri };
            }

            var (version, versionPolicy) = UpstreamVersion(model);
            clusters.Add(new ClusterConfig
            {
                ClusterId = model.ClusterId,
                Metadata = UpstreamHttpClientFactory.Metadata(snapshot, model),
                LoadBalancingPolicy = Yarp.ReverseProxy.LoadBalancing.LoadBalancingPolicies.PowerOfTwoChoices,
                Destinations = destinations,
                HealthCheck = new HealthCheckConfig
                {
                    // Passive health is reported by FailoverMiddleware (it also counts 429 and 5xx, not only
                    // transport errors); HealthyOrPanic still sends traffic when every deployment is parked.
                    Passive = new PassiveHealthCheckConfig { Enabled = true, ReactivationPeriod = TimeSpan.FromSeconds(Math.Max(1, forwarding.UnhealthyPeriodSeconds)) },
                    AvailableDestinationsPolicy = Yarp.ReverseProxy.Health.HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
                },
                HttpRequest = new ForwarderRequestConfig
                {
                    ActivityTimeout = TimeSpan.FromSeconds(forwarding.UpstreamTimeoutSeconds),
                    AllowResponseBuffering = false,
                    Version = version,
                    VersionPolicy = versionPolicy,
                },
                HttpClient = new HttpClientConfig
                {
                    DangerousAcceptAnyServerCertificate = false,
                    EnableMultipleHttp2Connections = true,
                },
            });
        }

        return (routes, clusters);
    }

    /// <summary>
    /// A cluster has one HTTP version. Default (YARP's): ask for HTTP/2 and accept lower — TLS ALPN picks h2 where the
    /// provider offers it, plain http stays HTTP/1.1. HTTP/1.1 only if a provider says <c>"1.1"</c>; HTTP/2 only (prior
    /// knowledge, h2c, over plain http) if every provider says <c>"2"</c>.
    /// </summary>
    internal static (Version Version, HttpVersionPolicy Policy) UpstreamVersion(ModelRoute model)
    {
        if (model.Deployments.Any(d => d.Provider.HttpVersion == "1.1"))
        {
            return (System.Net.HttpVersion.Version11, HttpVersionPolicy.RequestVersionOrLower);
        }

        var allTwo = model.Deployments.Count > 0 && model.Deployments.All(d => d.Provider.HttpVersion == "2" && !d.Provider.IsEmbeddedSimulator);
        return (System.Net.HttpVersion.Version20, allTwo ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower);
    }

    private sealed class Snapshot : IProxyConfig
    {
        public Snapshot((List<RouteConfig> Routes, List<ClusterConfig> Clusters) config, IChangeToken changeToken)
        {
            Routes = config.Routes;
            Clusters = config.Clusters;
            ChangeToken = changeToken;
        }

        public IReadOnlyList<RouteConfig> Routes { get; }

        public IReadOnlyList<ClusterConfig> Clusters { get; }

        public IChangeToken ChangeToken { get; }
    }
}
