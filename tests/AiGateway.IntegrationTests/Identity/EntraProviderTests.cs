using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Identity;

/// <summary>Entra ID token shapes through the <c>entra</c> provider type (Microsoft.Identity.Web) against a loopback tenant.</summary>
public sealed class EntraProviderTests
{
    private const string ClientId = "6f1d3c2a-9b7e-4e3f-8a21-5c4d7e9f0a12";

    [Fact]
    public async Task EntraV2_person_token_is_accepted_by_the_entra_provider()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = TokenShape.EntraV2 });
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Roles("analyst").Scopes("access_as_user").PreferredUsername("ann@agency.gov").Build());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task EntraV2_workload_token_is_accepted_by_the_entra_provider()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = TokenShape.EntraV2 });
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Workload(Guid.NewGuid().ToString()).Roles("analyst").Build());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task EntraV1_token_is_accepted_by_the_entra_provider()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        // One tenant serves v1 and v2 tokens signed with the keys of its v2 JWKS (which MIW reads), as Entra does;
        // the v1 token carries the v1 issuer ({instance}/{tenant}/ here, sts.windows.net/{tenant}/ in the real clouds) and v1 claims.
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = TokenShape.EntraV2 });
        await using var gateway = await StartAsync(simulator, issuer);
        var v1Issuer = $"{issuer.BaseAddress.GetLeftPart(UriPartial.Authority)}/{issuer.TenantId}/";

        var token = issuer.Token().Issuer(v1Issuer).Claim("ver", "1.0").WithoutClaim("azp").WithoutClaim("azpacr").Claim("appid", issuer.ClientAppId)
            .Roles("analyst").Scopes("access_as_user").Upn("ann@agency.gov").Claim("unique_name", "ann@agency.gov").Build();
        using var response = await GatewayCalls.ChatAsync(gateway, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Entra_token_of_another_tenant_is_rejected()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = TokenShape.EntraV2 });
        await using var gateway = await StartAsync(simulator, issuer);
        var otherTenant = Guid.NewGuid().ToString();

        var token = issuer.Token().Issuer($"{issuer.BaseAddress.GetLeftPart(UriPartial.Authority)}/{otherTenant}/v2.0").Claim("tid", otherTenant).Roles("engineer").Build();
        using var response = await GatewayCalls.ChatAsync(gateway, token);

        GatewayCalls.AssertInvalidTokenChallenge(response);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Entra_token_with_wrong_audience_is_rejected()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = TokenShape.EntraV2 });
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Audience("api://other").Roles("engineer").Build());

        GatewayCalls.AssertInvalidTokenChallenge(response);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Entra_token_with_a_foreign_signature_is_rejected()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = TokenShape.EntraV2 });
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().SignedWithForeignKey().Roles("engineer").Build());

        GatewayCalls.AssertInvalidTokenChallenge(response);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Entra_group_only_token_maps_to_a_role()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = TokenShape.EntraV2 });
        var group = Guid.NewGuid().ToString();
        await using var gateway = await StartAsync(simulator, issuer, $", \"groups\": {{ \"{group}\": [\"engineer\"] }}");

        using var person = await GatewayCalls.ChatAsync(gateway, issuer.Token().Groups(group).Scopes("access_as_user").Build(), "secure-llm");
        using var workload = await GatewayCalls.ChatAsync(gateway, issuer.Token().Workload(Guid.NewGuid().ToString()).Groups(group).Build(), "secure-llm");

        Assert.Equal(HttpStatusCode.OK, person.StatusCode);
        Assert.Equal(HttpStatusCode.OK, workload.StatusCode);
    }

    internal static string EntraProvider(TestOidcIssuer issuer) =>
        $$"""{ "type": "entra", "instance": {{ConfigJson.Quote(issuer.BaseAddress.GetLeftPart(UriPartial.Authority) + "/")}}, "tenantId": {{ConfigJson.Quote(issuer.TenantId)}}, "clientId": "{{ClientId}}", "audiences": [{{ConfigJson.Quote(issuer.Audience)}}], "requireHttpsMetadata": false }""";

    private static Task<TestGateway> StartAsync(SimulatorServer simulator, TestOidcIssuer issuer, string extra = "") =>
        TestGateway.StartAsync(
            ConfigJson.Gateway(simulator.BaseAddress),
            new Dictionary<string, string> { ["alpha"] = ConfigJson.Agency("alpha", EntraProvider(issuer), extra: extra) });
}
