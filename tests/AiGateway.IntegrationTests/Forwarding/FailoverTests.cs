using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace AiGateway.IntegrationTests.Forwarding;

/// <summary>
/// Failover between deployments. Two deployments of one model share one simulator but name different upstream
/// models ("up-a", "up-b"), so the recorded bodies tell which deployment each attempt went to, whatever order
/// the load balancer picks.
/// </summary>
public sealed class FailoverTests
{
    private const string Chat = """{"model":"multi","messages":[{"role":"user","content":"Fail over please"}]}""";

    private static string TwoDeployments(SimulatorServer simulator, int maxAttempts = 3, string thirdDeployment = "") => UpstreamJson.Gateway(
        UpstreamJson.Provider("sim", "openai", simulator.BaseAddress),
        UpstreamJson.Model("multi", """{ "provider": "sim", "model": "up-a" }, { "provider": "sim", "model": "up-b" }""" + thirdDeployment),
        forwarding: $$"""{ "maxAttempts": {{maxAttempts}}, "upstreamTimeoutSeconds": 30, "unhealthyPeriodSeconds": 60 }""");

    private static string[] UpstreamModels(SimulatorServer simulator) =>
        [.. simulator.ReceivedRequests.Select(r => GatewayHttp.BodyModel(r.Body)!)];

    [Fact]
    public async Task Failover_on_503_reaches_the_second_deployment_and_the_client_sees_one_clean_200()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(TwoDeployments(simulator));
        simulator.Faults.FailNext(1, 503);

        using var response = await scenario.PostAsync("v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await GatewayHttp.JsonAsync(response);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        var attempts = UpstreamModels(simulator);
        Assert.Equal(2, attempts.Length);
        Assert.NotEqual(attempts[0], attempts[1]);
    }

    [Fact]
    public async Task Failing_deployment_is_parked_so_later_requests_go_straight_to_the_healthy_one()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(TwoDeployments(simulator));
        simulator.Faults.FailNext(1, 503);
        using (var first = await scenario.PostAsync("v1/chat/completions", Chat))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var (failed, healthy) = (UpstreamModels(simulator)[0], UpstreamModels(simulator)[1]);
        simulator.ClearReceived();

        // Unparked, each request would pick the failed deployment half of the time.
        for (var i = 0; i < 8; i++)
        {
            using var response = await scenario.PostAsync("v1/chat/completions", Chat);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var later = UpstreamModels(simulator);
        Assert.Equal(8, later.Length);
        Assert.All(later, model => Assert.Equal(healthy, model));
        Assert.DoesNotContain(failed, later);
    }

    [Fact]
    public async Task Failover_on_429_with_retry_after_reaches_the_other_deployment_and_parks_the_limited_one()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(TwoDeployments(simulator));
        simulator.Faults.FailNext(1, 429, retryAfterSeconds: 120);

        using var response = await scenario.PostAsync("v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        var attempts = UpstreamModels(simulator);
        Assert.Equal(2, attempts.Length);
        Assert.NotEqual(attempts[0], attempts[1]);
        var limited = attempts[0][^1] == 'a' ? "0:sim" : "1:sim";
        Assert.Equal(DestinationHealth.Unhealthy, PassiveHealth(scenario, "multi", limited));
    }

    [Fact]
    public async Task Failover_on_connection_refused_reaches_the_live_deployment()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        var closed = new Uri($"http://127.0.0.1:{FreePort.Get()}/");
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("dead", "openai", closed) + ", " + UpstreamJson.Provider("live", "openai", simulator.BaseAddress),
            UpstreamJson.Model("multi", """{ "provider": "dead" }, { "provider": "live" }""")));

        // The balancer picks either deployment first; send until the dead one has been tried (then it is parked).
        var requests = 0;
        while (PassiveHealth(scenario, "multi", "0:dead") != DestinationHealth.Unhealthy)
        {
            Assert.True(requests < 40, "The dead deployment was never tried.");
            using var response = await scenario.PostAsync("v1/chat/completions", Chat);
            requests++;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(requests, simulator.ReceivedRequests.Count);
        }

        using (var afterParking = await scenario.PostAsync("v1/chat/completions", Chat))
        {
            Assert.Equal(HttpStatusCode.OK, afterParking.StatusCode);
        }

        Assert.Equal(requests + 1, simulator.ReceivedRequests.Count);
    }

    [Fact]
    public async Task Attempts_are_bounded_by_max_attempts()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(TwoDeployments(simulator, maxAttempts: 2, thirdDeployment: """, { "provider": "sim", "model": "up-c" }"""));
        simulator.Faults.FailAlways(503);

        using var response = await scenario.PostAsync("v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(2, simulator.ReceivedRequests.Count);
    }

    [Fact]
    public async Task When_every_deployment_fails_the_client_gets_the_last_upstream_status_in_a_clean_shape()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(TwoDeployments(simulator));
        simulator.Faults.FailAlways(503);

        using var response = await scenario.PostAsync("v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await GatewayHttp.JsonAsync(response)).GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        var attempts = UpstreamModels(simulator);
        Assert.Equal(2, attempts.Length);
        Assert.NotEqual(attempts[0], attempts[1]);
    }

    private const string BrokenStream = """{"model":"multi","stream":true,"messages":[{"role":"user","content":"Break"}],"simulator":{"chunks":6,"fault":"reset_mid_stream"}}""";

    [Fact]
    public async Task No_retry_after_the_first_response_byte_the_client_sees_the_broken_stream()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        // Without answer inspection every upstream byte reaches the client as it arrives.
        await using var scenario = await GatewayScenario.StartAsync(TwoDeployments(simulator), agencyExtra: """, "inspection": { "inspectAnswers": false }""");

        using var response = await scenario.Client.SendAsync(GatewayHttp.Post("v1/chat/completions", BrokenStream), HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (text, broken) = await ReadToBreakAsync(response);
        Assert.True(broken, "The client saw a cleanly ended stream instead of a broken one.");
        Assert.Contains("chat.completion.chunk", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.Single(simulator.ReceivedRequests);
        // One stream only: a retried attempt would start a second assistant message.
        Assert.Equal(1, CountOf(text, "\"role\":\"assistant\""));
    }

    [Fact]
    public async Task No_retry_of_a_stream_broken_while_answer_inspection_holds_it_the_client_gets_a_clean_502()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(TwoDeployments(simulator));

        using var response = await scenario.Client.SendAsync(GatewayHttp.Post("v1/chat/completions", BrokenStream), HttpCompletionOption.ResponseHeadersRead);

        Assert.Single(simulator.ReceivedRequests);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            // Part of the stream was already released to the client: it must end broken.
            var (text, broken) = await ReadToBreakAsync(response);
            Assert.True(broken);
            Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            var error = (await GatewayHttp.JsonAsync(response)).GetProperty("error");
            Assert.Equal("upstream_unreachable", error.GetProperty("code").GetString());
            Assert.Equal("server_error", error.GetProperty("type").GetString());
        }

        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task No_retry_of_a_json_answer_cut_mid_body_the_client_gets_a_clean_502()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(TwoDeployments(simulator));
        const string body = """{"model":"multi","messages":[{"role":"user","content":"Cut"}],"simulator":{"fault":"reset_mid_stream"}}""";

        using var response = await scenario.PostAsync("v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await GatewayHttp.JsonAsync(response)).GetProperty("error");
        Assert.Equal("upstream_unreachable", error.GetProperty("code").GetString());
        Assert.Single(simulator.ReceivedRequests);
    }

    private static async Task<(string Text, bool Broken)> ReadToBreakAsync(HttpResponseMessage response)
    {
        var received = new System.Text.StringBuilder();
        try
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                received.Append(line).Append('\n');
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return (received.ToString(), true);
        }

        return (received.ToString(), false);
    }

    private static DestinationHealth PassiveHealth(GatewayScenario scenario, string model, string destinationId)
    {
        var state = scenario.Gateway.App.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(state.TryGetCluster("model:" + model, out var cluster));
        return cluster.Destinations[destinationId].Health.Passive;
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
