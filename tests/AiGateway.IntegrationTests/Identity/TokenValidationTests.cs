using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Identity;

public sealed class TokenValidationTests
{
    public enum BadToken
    {
        Expired,
        NotYetValid,
        WrongAudience,
        WrongIssuer,
        ForeignSigningKey,
        AlgNone,
        Hs256SignedWithPublicKey,
        NotAJwt,
    }

    [Fact]
    public async Task Valid_person_token_is_forwarded()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartGatewayAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Roles("analyst").Scopes("access_as_user").Build());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Valid_workload_token_is_forwarded_where_workloads_are_entitled()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartGatewayAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Workload(Guid.NewGuid().ToString()).Roles("analyst").Build());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Missing_token_is_refused_with_a_bearer_challenge()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartGatewayAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, token: null);

        GatewayCalls.AssertInvalidTokenChallenge(response);
        await GatewayCalls.ReadOpenAIErrorAsync(response);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Theory]
    [InlineData(BadToken.Expired)]
    [InlineData(BadToken.NotYetValid)]
    [InlineData(BadToken.WrongAudience)]
    [InlineData(BadToken.WrongIssuer)]
    [InlineData(BadToken.ForeignSigningKey)]
    [InlineData(BadToken.AlgNone)]
    [InlineData(BadToken.Hs256SignedWithPublicKey)]
    [InlineData(BadToken.NotAJwt)]
    public async Task Invalid_token_is_refused_with_401_in_the_OpenAI_shape(BadToken kind)
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartGatewayAsync(simulator, issuer);
        var token = Forge(issuer, kind);

        using var response = await GatewayCalls.ChatAsync(gateway, token);

        GatewayCalls.AssertInvalidTokenChallenge(response);
        var error = await GatewayCalls.ReadOpenAIErrorAsync(response);
        Assert.Equal("invalid_token", error.GetProperty("code").GetString());
        Assert.Equal("authentication_error", error.GetProperty("type").GetString());
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Theory]
    [InlineData(BadToken.Expired)]
    [InlineData(BadToken.ForeignSigningKey)]
    public async Task Invalid_token_on_the_Anthropic_endpoint_is_refused_in_the_Anthropic_shape(BadToken kind)
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartGatewayAsync(simulator, issuer);

        using var response = await GatewayCalls.AnthropicMessagesAsync(gateway, Forge(issuer, kind));

        GatewayCalls.AssertInvalidTokenChallenge(response);
        var error = await GatewayCalls.ReadAnthropicErrorAsync(response);
        Assert.Equal("authentication_error", error.GetProperty("type").GetString());
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Valid_token_on_the_Anthropic_endpoint_is_forwarded()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartGatewayAsync(simulator, issuer);

        using var response = await GatewayCalls.AnthropicMessagesAsync(gateway, issuer.Token().Roles("engineer").Build());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Token_from_an_issuer_no_agency_trusts_is_refused()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var trusted = await TestOidcIssuer.StartAsync();
        await using var stranger = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartGatewayAsync(simulator, trusted);

        using var response = await GatewayCalls.ChatAsync(gateway, stranger.Token().Roles("engineer").Build());

        GatewayCalls.AssertInvalidTokenChallenge(response);
        Assert.Empty(simulator.ReceivedRequests);
    }

    internal static Task<TestGateway> StartGatewayAsync(SimulatorServer simulator, TestOidcIssuer issuer) =>
        TestGateway.StartAsync(
            ConfigJson.Gateway(simulator.BaseAddress),
            new Dictionary<string, string> { ["alpha"] = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer)) });

    private static string Forge(TestOidcIssuer issuer, BadToken kind)
    {
        var token = issuer.Token().Roles("engineer");
        return kind switch
        {
            BadToken.Expired => token.Expired().Build(),
            BadToken.NotYetValid => token.NotYetValid().Build(),
            BadToken.WrongAudience => token.Audience("api://some-other-api").Build(),
            // Signed with the trusted issuer's own key, but claiming another (untrusted) issuer.
            BadToken.WrongIssuer => token.Issuer(issuer.Issuer + "-evil").Build(),
            BadToken.ForeignSigningKey => token.SignedWithForeignKey().Build(),
            BadToken.AlgNone => token.UnsignedAlgNone().Build(),
            BadToken.Hs256SignedWithPublicKey => token.SignedHs256WithPublicKey().Build(),
            BadToken.NotAJwt => "not-a-jwt",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }
}
