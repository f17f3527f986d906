using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Identity;

/// <summary>Two agencies with two issuers in one gateway: the token's issuer selects the agency, nothing else.</summary>
public sealed class AgencyIsolationTests
{
    [Fact]
    public async Task Token_from_other_agency_is_rejected_for_a_model_only_that_agency_may_use()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuerA = await TestOidcIssuer.StartAsync();
        await using var issuerB = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartTwoAgenciesAsync(simulator, issuerA, issuerB);

        // Agency A's engineer holds a role named like B's, but A does not allow secure-llm at all.
        using var response = await GatewayCalls.ChatAsync(gateway, issuerA.Token().Roles("engineer").Build(), "secure-llm");

        Assert.True(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"got {(int)response.StatusCode}");
        Assert.Empty(simulator.ReceivedRequests);

        // The same model works for agency B's engineer: the refusal came from the agency, not the model.
        using var ok = await GatewayCalls.ChatAsync(gateway, issuerB.Token().Roles("engineer").Build(), "secure-llm");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Token_signed_by_one_agency_claiming_the_other_agencys_issuer_is_rejected()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuerA = await TestOidcIssuer.StartAsync();
        await using var issuerB = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartTwoAgenciesAsync(simulator, issuerA, issuerB);

        // Signed with A's key, iss = B's issuer: B's keys do not verify it.
        using var response = await GatewayCalls.ChatAsync(gateway, issuerA.Token().Issuer(issuerB.Issuer).Roles("engineer").Build(), "secure-llm");

        GatewayCalls.AssertInvalidTokenChallenge(response);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Each_agencys_token_lists_only_its_own_models()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuerA = await TestOidcIssuer.StartAsync();
        await using var issuerB = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartTwoAgenciesAsync(simulator, issuerA, issuerB);

        var modelsA = await GatewayCalls.ListModelIdsAsync(gateway, issuerA.Token().Roles("engineer").Build());
        var modelsB = await GatewayCalls.ListModelIdsAsync(gateway, issuerB.Token().Roles("engineer").Build());

        Assert.Equal(["gpt-4o-mini", "claude-3-5-haiku"], modelsA);
        Assert.Equal(["gpt-4o-mini", "claude-3-5-haiku", "secure-llm"], modelsB);
    }

    private static Task<TestGateway> StartTwoAgenciesAsync(SimulatorServer simulator, TestOidcIssuer issuerA, TestOidcIssuer issuerB)
    {
        var agencyA = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuerA.Issuer)).Replace("\"models\": [\"*\"],", "\"models\": [\"gpt-4o-mini\", \"claude-*\"],", StringComparison.Ordinal);
        var agencyB = ConfigJson.Agency("bravo", ConfigJson.OidcProvider(issuerB.Issuer));
        Assert.Contains("claude-*", agencyA, StringComparison.Ordinal);
        return TestGateway.StartAsync(
            ConfigJson.Gateway(simulator.BaseAddress),
            new Dictionary<string, string> { ["alpha"] = agencyA, ["bravo"] = agencyB });
    }
}
