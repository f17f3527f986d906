using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Forwarding;

/// <summary>
/// Pooled upstream connections are reused, and replaced once older than <c>forwarding.connectionLifetimeSeconds</c>, so a
/// provider whose address changes in DNS is followed even while steady traffic keeps every connection busy (YARP's
/// default keeps a busy connection for ever). Told apart by the upstream's connection ids.
/// </summary>
public sealed class UpstreamConnectionTests
{
    private const string Chat = """{"model":"m","messages":[{"role":"user","content":"Which connection?"}]}""";
    private const double Lifetime = 2;

    [Fact]
    public async Task A_pooled_upstream_connection_is_reused_and_replaced_after_the_configured_lifetime()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(Gateway(simulator.BaseAddress, Lifetime));
        // The first call of a fresh gateway is slow (JIT, first journal write); its connection is left to expire, so the
        // two calls that must share one are both warm and well within the lifetime even on a slow machine.
        var warmUp = await ConnectionOfNextCallAsync(scenario, simulator);
        await Task.Delay(TimeSpan.FromSeconds(Lifetime + 0.5));

        var first = await ConnectionOfNextCallAsync(scenario, simulator);
        var second = await ConnectionOfNextCallAsync(scenario, simulator);
        await Task.Delay(TimeSpan.FromSeconds(Lifetime + 0.5));
        var third = await ConnectionOfNextCallAsync(scenario, simulator);

        Assert.NotEqual(warmUp, first);
        Assert.Equal(first, second);
        Assert.NotEqual(second, third);
    }

    [Fact]
    public async Task A_lifetime_changed_by_a_hot_reload_applies_to_the_running_gateway()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(Gateway(simulator.BaseAddress, 3600));
        var before = await ConnectionOfNextCallAsync(scenario, simulator);

        Assert.True(await scenario.Gateway.ReplaceConfigFileAndWaitAsync("gateway.json", Gateway(simulator.BaseAddress, Lifetime), TimeSpan.FromSeconds(20)));
        // YARP applies its view of the new snapshot right after the store's change token fires: the cluster's new client
        // (a new pool) shows as a new connection.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string first;
        while ((first = await ConnectionOfNextCallAsync(scenario, simulator)) == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "The reloaded lifetime never reached the cluster's HTTP client.");
            await Task.Delay(100);
        }

        var second = await ConnectionOfNextCallAsync(scenario, simulator);
        await Task.Delay(TimeSpan.FromSeconds(Lifetime + 0.5));
        var third = await ConnectionOfNextCallAsync(scenario, simulator);

        Assert.Equal(first, second);
        Assert.NotEqual(second, third);
    }

    private static string Gateway(Uri upstream, double lifetimeSeconds) => UpstreamJson.Gateway(
        UpstreamJson.Provider("sim", "openai", upstream),
        UpstreamJson.Model("m", """{ "provider": "sim", "model": "m" }"""),
        forwarding: $$"""{ "maxAttempts": 1, "upstreamTimeoutSeconds": 30, "unhealthyPeriodSeconds": 0, "connectionLifetimeSeconds": {{lifetimeSeconds}} }""");

    private static async Task<string> ConnectionOfNextCallAsync(GatewayScenario scenario, SimulatorServer simulator)
    {
        var seen = simulator.ReceivedRequests.Count;
        using var response = await scenario.PostAsync("v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsByteArrayAsync();
        var received = simulator.ReceivedRequests;
        Assert.Equal(seen + 1, received.Count);
        return received[^1].ConnectionId;
    }
}
