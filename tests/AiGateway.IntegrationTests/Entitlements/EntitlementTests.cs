using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Entitlements;

public sealed class EntitlementTests
{
    private const string EngineersGroup = "8f0c2b64-5d1e-4c8e-9a51-0f6b8c9a7d21";

    [Fact]
    public async Task Role_from_roles_claim_grants_its_models()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Roles("engineer").Build(), "secure-llm");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Analyst_role_does_not_grant_a_model_outside_its_list()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Roles("analyst").Build(), "secure-llm");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await GatewayCalls.ReadOpenAIErrorAsync(response);
        Assert.Equal("model_not_permitted", error.GetProperty("code").GetString());
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Role_from_mapped_group_grants_its_models()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Groups(EngineersGroup).Scopes("access_as_user").Build(), "secure-llm");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Unmapped_group_grants_nothing()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Groups(Guid.NewGuid().ToString()).Scopes("access_as_user").Build());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Caller_without_role_is_refused_with_model_not_permitted_naming_the_model_not_the_roles()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Scopes("access_as_user").Build(), "gpt-4o-mini");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await GatewayCalls.ReadOpenAIErrorAsync(response);
        Assert.Equal("model_not_permitted", error.GetProperty("code").GetString());
        Assert.Equal("permission_error", error.GetProperty("type").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("gpt-4o-mini", message, StringComparison.Ordinal);
        Assert.DoesNotContain("analyst", message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("engineer", message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("agent", message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Refusal_on_the_Anthropic_endpoint_uses_the_Anthropic_shape()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.AnthropicMessagesAsync(gateway, issuer.Token().Roles("analyst").Build());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await GatewayCalls.ReadAnthropicErrorAsync(response);
        Assert.Equal("permission_error", error.GetProperty("type").GetString());
        Assert.Contains("claude-3-5-haiku", error.GetProperty("message").GetString()!, StringComparison.Ordinal);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Alias_of_a_granted_model_is_granted()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        using var response = await GatewayCalls.ChatAsync(gateway, issuer.Token().Roles("analyst").Build(), "gpt-4o-mini-2024-07-18");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Workload_is_refused_a_model_its_roles_workloadModels_exclude_although_models_include_it()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);
        var workload = issuer.Token().Workload(Guid.NewGuid().ToString()).Roles("agent").Build();
        var person = issuer.Token().Roles("agent").Scopes("access_as_user").Build();

        using var refused = await GatewayCalls.ChatAsync(gateway, workload, "secure-llm");
        using var allowedForPerson = await GatewayCalls.ChatAsync(gateway, person, "secure-llm");
        using var allowedForWorkload = await GatewayCalls.ChatAsync(gateway, workload, "gpt-4o-mini");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("model_not_permitted", (await GatewayCalls.ReadOpenAIErrorAsync(refused)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, allowedForPerson.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowedForWorkload.StatusCode);
        Assert.Equal(2, simulator.ReceivedRequests.Count);
    }

    [Fact]
    public async Task Models_list_is_filtered_per_caller()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        var analyst = await GatewayCalls.ListModelIdsAsync(gateway, issuer.Token().Roles("analyst").Build());
        var engineer = await GatewayCalls.ListModelIdsAsync(gateway, issuer.Token().Roles("engineer").Build());
        var nobody = await GatewayCalls.ListModelIdsAsync(gateway, issuer.Token().Scopes("access_as_user").Build());
        var workloadAgent = await GatewayCalls.ListModelIdsAsync(gateway, issuer.Token().Workload(Guid.NewGuid().ToString()).Roles("agent").Build());

        Assert.Equal(["gpt-4o-mini"], analyst);
        Assert.Equal(["gpt-4o-mini", "claude-3-5-haiku", "secure-llm"], engineer);
        Assert.Empty(nobody);
        Assert.Equal(["gpt-4o-mini"], workloadAgent);
    }

    [Fact]
    public async Task Models_list_without_token_is_refused()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await StartAsync(simulator, issuer);

        using var client = gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("v1/models", UriKind.Relative));

        GatewayCalls.AssertInvalidTokenChallenge(response);
    }

    private static Task<TestGateway> StartAsync(SimulatorServer simulator, TestOidcIssuer issuer)
    {
        var extra = $$"""
            ,
              "groups": { "{{EngineersGroup}}": ["engineer"] }
            """;
        var agency = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer), extra: extra)
            .Replace(
                "\"engineer\": { \"models\": [\"*\"] }",
                "\"engineer\": { \"models\": [\"*\"] },\n    \"agent\": { \"models\": [\"gpt-4o-mini\", \"secure-llm\"], \"workloadModels\": [\"gpt-4o-mini\"] }",
                StringComparison.Ordinal);
        Assert.Contains("workloadModels", agency, StringComparison.Ordinal);
        return TestGateway.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), new Dictionary<string, string> { ["alpha"] = agency });
    }
}
