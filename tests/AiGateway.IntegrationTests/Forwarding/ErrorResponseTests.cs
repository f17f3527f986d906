using System.Net;
using System.Text;
using System.Text.Json;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Forwarding;

/// <summary>Every refusal and upstream failure has the right status and the caller's error shape.</summary>
public sealed class ErrorResponseTests
{
    private const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}""";

    private static async Task<JsonElement> AssertOpenAIErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await GatewayHttp.JsonAsync(response)).GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        return error;
    }

    private static async Task AssertAnthropicErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        var json = await GatewayHttp.JsonAsync(response);
        Assert.Equal("error", json.GetProperty("type").GetString());
        Assert.Equal(type, json.GetProperty("error").GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("error").GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o-mini","messages":[""", "invalid_json")]
    [InlineData("""{"model":"gpt-4o-mini"} trailing""", "invalid_json")]
    [InlineData("""["model","gpt-4o-mini"]""", "invalid_request")]
    [InlineData("\"just a string\"", "invalid_request")]
    [InlineData("""{"messages":[{"role":"user","content":"no model"}]}""", "invalid_request")]
    [InlineData("""{"model":42,"messages":[]}""", "invalid_request")]
    [InlineData("""{"model":"gpt-4o-mini","stream":"yes","messages":[]}""", "invalid_request")]
    public async Task Bad_request_bodies_get_400_in_the_openai_shape_and_never_reach_the_upstream(string body, string code)
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.PostAsync("v1/chat/completions", body);

        await AssertOpenAIErrorAsync(response, HttpStatusCode.BadRequest, code, "invalid_request_error");
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Unknown_model_gets_404_model_not_found()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.PostAsync("v1/chat/completions", Chat.Replace("gpt-4o-mini", "gpt-99", StringComparison.Ordinal));

        var error = await AssertOpenAIErrorAsync(response, HttpStatusCode.NotFound, "model_not_found", "invalid_request_error");
        Assert.Contains("gpt-99", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Unknown_model_on_the_anthropic_path_gets_404_in_the_anthropic_shape()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.PostAsync("v1/messages", """{"model":"claude-99","max_tokens":10,"messages":[]}""", ("anthropic-version", "2023-06-01"));

        await AssertAnthropicErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Anthropic_path_without_anthropic_version_gets_400_in_the_anthropic_shape()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.PostAsync("v1/messages", """{"model":"claude-3-5-haiku","max_tokens":10,"messages":[]}""");

        await AssertAnthropicErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Theory]
    [InlineData("v1/nothing")]
    [InlineData("v1/chat/completions/extra")]
    [InlineData("openai/deployments/gpt-4o-mini/images?api-version=2024-10-21")]
    public async Task Unknown_path_gets_404_unknown_url_in_the_openai_shape(string path)
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.PostAsync(path, Chat);

        await AssertOpenAIErrorAsync(response, HttpStatusCode.NotFound, "unknown_url", "invalid_request_error");
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Unknown_path_under_v1_messages_gets_404_in_the_anthropic_shape()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.PostAsync("v1/messages/batches", """{"requests":[]}""", ("anthropic-version", "2023-06-01"));

        await AssertAnthropicErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Body_over_max_body_bytes_with_content_length_gets_413()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress, maxBodyBytes: 2048));

        using var response = await scenario.PostAsync("v1/chat/completions", LargeChat(4096));

        await AssertOpenAIErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large", "invalid_request_error");
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Body_over_max_body_bytes_sent_chunked_gets_413()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress, maxBodyBytes: 2048));
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(LargeChat(4096)))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;

        using var response = await scenario.Client.SendAsync(request);

        Assert.Null(request.Content.Headers.ContentLength);
        await AssertOpenAIErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large", "invalid_request_error");
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Body_just_under_max_body_bytes_sent_chunked_is_forwarded()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress, maxBodyBytes: 2048));
        var body = LargeChat(2000);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;

        using var response = await scenario.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, Encoding.UTF8.GetString(Assert.Single(simulator.ReceivedRequests).Body));
    }

    [Fact]
    public async Task Unreachable_single_deployment_gets_502_upstream_unreachable()
    {
        var closed = new Uri($"http://127.0.0.1:{FreePort.Get()}/");
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(closed));

        using var response = await scenario.PostAsync("v1/chat/completions", Chat);

        await AssertOpenAIErrorAsync(response, HttpStatusCode.BadGateway, "upstream_unreachable", "server_error");
    }

    [Fact]
    public async Task Upstream_reset_before_any_byte_gets_502_upstream_unreachable()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.PostAsync("v1/chat/completions", """{"model":"gpt-4o-mini","messages":[],"simulator":{"fault":"reset"}}""");

        await AssertOpenAIErrorAsync(response, HttpStatusCode.BadGateway, "upstream_unreachable", "server_error");
        Assert.Single(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Upstream_reset_on_the_anthropic_path_gets_502_in_the_anthropic_shape()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress));

        using var response = await scenario.PostAsync(
            "v1/messages",
            """{"model":"claude-3-5-haiku","max_tokens":10,"messages":[{"role":"user","content":"x"}],"simulator":{"fault":"reset"}}""",
            ("anthropic-version", "2023-06-01"));

        await AssertAnthropicErrorAsync(response, HttpStatusCode.BadGateway, "api_error");
    }

    [Fact]
    public async Task Upstream_slower_than_the_upstream_timeout_gets_504_upstream_timeout()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(ConfigJson.Gateway(
            simulator.BaseAddress,
            forwarding: """{ "maxAttempts": 3, "upstreamTimeoutSeconds": 1, "unhealthyPeriodSeconds": 30 }"""));

        using var response = await scenario.PostAsync("v1/chat/completions", """{"model":"gpt-4o-mini","messages":[],"simulator":{"delay_ms":3000}}""");

        await AssertOpenAIErrorAsync(response, HttpStatusCode.GatewayTimeout, "upstream_timeout", "server_error");
        Assert.Single(simulator.ReceivedRequests);
    }

    private static string LargeChat(int totalBytes)
    {
        const string Prefix = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":" """;
        const string Suffix = "\"}]}";
        return Prefix + new string('a', totalBytes - Prefix.Length - Suffix.Length) + Suffix;
    }
}
