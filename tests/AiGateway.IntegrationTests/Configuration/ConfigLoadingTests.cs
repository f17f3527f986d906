using System.Net;
using AiGateway.Configuration;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Configuration;

/// <summary>Invalid configuration stops start-up with every error listed, and never replaces a running one.</summary>
public sealed class ConfigLoadingTests
{
    private const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Still serving?"}]}""";

    [Fact]
    public async Task Broken_agency_file_at_start_up_fails_naming_the_file_and_the_json_path()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        const string agency = """
            { "name": "alpha", "models": ["*"], "identity": { "providers": [ { "type": "oidc", "authority": "http://127.0.0.1:1/", "audiences": ["api://aigateway"], "requireHttpsMetadata": false } ] },
              "roles": { "analyst": { "models": ["gpt-5-does-not-exist"] } } }
            """;

        var ex = await Assert.ThrowsAsync<ConfigValidationException>(() =>
            TestGateway.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), new Dictionary<string, string> { ["alpha"] = agency }));

        var error = Assert.Single(ex.Errors);
        Assert.EndsWith(Path.Combine("agencies", "alpha.json"), error.File, StringComparison.Ordinal);
        Assert.Equal("$.roles['analyst'].models[0]", error.Path);
        Assert.Contains("alpha.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("$.roles['analyst'].models[0]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("gpt-5-does-not-exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_up_lists_every_error_of_every_file_at_once()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        var gateway = ConfigJson.Gateway(simulator.BaseAddress, forwarding: """{ "maxAttempts": 0, "upstreamTimeoutSeconds": 30 }""");
        const string agency = """
            { "name": "not-alpha", "models": ["nope"], "identity": { "providers": [ { "type": "oidc", "authority": "http://127.0.0.1:1/", "audiences": ["api://aigateway"], "requireHttpsMetadata": false } ] },
              "roles": { "analyst": { "models": ["missing-model"] } },
              "groups": { "g1": ["no-such-role"] } }
            """;

        var ex = await Assert.ThrowsAsync<ConfigValidationException>(() =>
            TestGateway.StartAsync(gateway, new Dictionary<string, string> { ["alpha"] = agency }));

        var where = ex.Errors.Select(e => (Path.GetFileName(e.File), e.Path)).ToList();
        Assert.Contains(("gateway.json", "$.forwarding.maxAttempts"), where);
        Assert.Contains(("alpha.json", "$.name"), where);
        Assert.Contains(("alpha.json", "$.models[0]"), where);
        Assert.Contains(("alpha.json", "$.roles['analyst'].models[0]"), where);
        Assert.Contains(("alpha.json", "$.groups['g1'][0]"), where);
        foreach (var error in ex.Errors)
        {
            Assert.Contains(error.ToString(), ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Agency_file_with_invalid_json_at_start_up_fails_naming_the_file_and_position()
    {
        await using var simulator = await SimulatorServer.StartAsync();

        var ex = await Assert.ThrowsAsync<ConfigValidationException>(() =>
            TestGateway.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), new Dictionary<string, string> { ["alpha"] = """{ "name": "alpha", "models": ["*" """ }));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("alpha.json", Path.GetFileName(error.File));
        Assert.StartsWith("$", error.Path, StringComparison.Ordinal);
        Assert.Contains("line 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broken_agency_file_during_hot_reload_keeps_the_old_config_serving()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), analystModels: "\"gpt-4o-mini\"");
        var version = scenario.Gateway.ConfigStore.Current.Version;

        var applied = await scenario.Gateway.ReplaceConfigFileAndWaitAsync(
            Path.Combine("agencies", "alpha.json"),
            ConfigJson.Agency("alpha", ConfigJson.OidcProvider(scenario.Issuer.Issuer), "\"no-such-model\""),
            TimeSpan.FromSeconds(20));

        Assert.False(applied);
        var rejected = Assert.Single(scenario.Gateway.ConfigStore.LastRejectedErrors!);
        Assert.Equal("alpha.json", Path.GetFileName(rejected.File));
        Assert.Equal("$.roles['analyst'].models[0]", rejected.Path);
        Assert.Equal(version, scenario.Gateway.ConfigStore.Current.Version);
        using var response = await scenario.PostAsync("v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Truncated_gateway_file_during_hot_reload_keeps_the_old_config_serving()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), analystModels: "\"gpt-4o-mini\"");

        var applied = await scenario.Gateway.ReplaceConfigFileAndWaitAsync("gateway.json", """{ "providers": { """, TimeSpan.FromSeconds(20));

        Assert.False(applied);
        using var response = await scenario.PostAsync("v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Valid_change_during_hot_reload_is_applied_to_the_next_request()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), analystModels: "\"gpt-4o-mini\"");
        using (var before = await scenario.PostAsync("v1/chat/completions", Chat))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // The analyst role loses gpt-4o-mini.
        var applied = await scenario.Gateway.ReplaceConfigFileAndWaitAsync(
            Path.Combine("agencies", "alpha.json"),
            ConfigJson.Agency("alpha", ConfigJson.OidcProvider(scenario.Issuer.Issuer), "\"secure-llm\""),
            TimeSpan.FromSeconds(20));

        Assert.True(applied);
        using var after = await scenario.PostAsync("v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        var error = (await GatewayHttp.JsonAsync(after)).GetProperty("error");
        Assert.Equal("model_not_permitted", error.GetProperty("code").GetString());
        Assert.Equal("permission_error", error.GetProperty("type").GetString());
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Valid_gateway_change_during_hot_reload_moves_the_model_to_a_new_upstream()
    {
        await using var first = await SimulatorServer.StartAsync();
        await using var second = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(first.BaseAddress), analystModels: "\"gpt-4o-mini\"");

        var applied = await scenario.Gateway.ReplaceConfigFileAndWaitAsync("gateway.json", ConfigJson.Gateway(second.BaseAddress), TimeSpan.FromSeconds(20));
        Assert.True(applied);

        // YARP applies its own view of the new snapshot right after the store's change token fires.
        var status = default(HttpStatusCode);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (second.ReceivedRequests.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The new upstream never received a request.");
            using var response = await scenario.PostAsync("v1/chat/completions", Chat);
            status = response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }
}
