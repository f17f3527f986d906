using System.Collections.Frozen;
using System.Net;
using AiGateway.Configuration;
using AiGateway.Forwarding;
using AiGateway.Markings;

namespace AiGateway.Tests.Forwarding;

/// <summary>One HTTP version per model cluster, from its providers' <c>httpVersion</c>.</summary>
public sealed class UpstreamHttpVersionTests
{
    [Theory]
    [InlineData(null, null, "https", "2.0", HttpVersionPolicy.RequestVersionOrLower)] // default: h2 by ALPN, else 1.1
    [InlineData(null, null, "http", "2.0", HttpVersionPolicy.RequestVersionOrLower)] // plain http: stays 1.1 (no ALPN)
    [InlineData("2", "2", "http", "2.0", HttpVersionPolicy.RequestVersionExact)] // h2c by prior knowledge
    [InlineData("2", null, "http", "2.0", HttpVersionPolicy.RequestVersionOrLower)] // not every provider asks for 2
    [InlineData("2", "1.1", "https", "1.1", HttpVersionPolicy.RequestVersionOrLower)] // one asks for 1.1: 1.1 for all
    public void Cluster_version_follows_the_providers(string? first, string? second, string scheme, string version, HttpVersionPolicy policy)
    {
        var model = Model(Deployment("0", first, scheme), Deployment("1", second, scheme));

        var (v, p) = GatewayProxyConfigProvider.UpstreamVersion(model);

        Assert.Equal(Version.Parse(version), v);
        Assert.Equal(policy, p);
    }

    private static UpstreamDeployment Deployment(string id, string? httpVersion, string scheme) => new()
    {
        DestinationId = id,
        Provider = new UpstreamProvider { Name = "p" + id, Api = ProviderApi.OpenAI, BaseUrl = new Uri(scheme + "://127.0.0.1/"), HttpVersion = httpVersion },
        UpstreamModel = "gpt-4o-mini",
    };

    private static ModelRoute Model(params UpstreamDeployment[] deployments) => new()
    {
        Name = "m",
        Aliases = [],
        Ceiling = MarkingLevel.Unclassified,
        ClusterId = "model:m",
        Deployments = deployments,
        DeploymentsByDestination = deployments.ToDictionary(d => d.DestinationId).ToFrozenDictionary(),
    };
}
