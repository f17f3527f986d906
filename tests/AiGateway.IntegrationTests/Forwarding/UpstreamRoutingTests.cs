using System.Net;
using System.Text;
using AiGateway.IntegrationTests.Infrastructure;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Forwarding;

/// <summary>Each dialect reaches the right upstream path, query, key and body.</summary>
public sealed class UpstreamRoutingTests
{
    private const string Chat = """{"model":"MODEL","messages":[{"role":"user","content":"Route me please"}]}""";

    [Fact]
    public async Task Anthropic_messages_call_reaches_the_anthropic_upstream_with_x_api_key_and_the_upstream_model()
    {
        using var key = new SecretFile("anthropic-provider-key");
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Name = "anthropic", RequiredApiKey = key.Secret });
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("claude", "anthropic", simulator.BaseAddress, key.Path),
            UpstreamJson.Model("claude-3-5-haiku", """{ "provider": "claude", "model": "claude-3-5-haiku-20241022" }""")));

        using var response = await scenario.PostAsync(
            "v1/messages",
            """{"model":"claude-3-5-haiku","max_tokens":100,"messages":[{"role":"user","content":"Hello Claude"}]}""",
            ("anthropic-version", "2023-06-01"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await GatewayHttp.JsonAsync(response);
        Assert.Equal("message", json.GetProperty("type").GetString());
        var received = Assert.Single(simulator.ReceivedRequests);
        Assert.Equal("/v1/messages", received.Path);
        Assert.Equal(string.Empty, received.QueryString);
        Assert.Equal(key.Secret, received.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", received.Headers["anthropic-version"]);
        Assert.False(received.Headers.ContainsKey("Authorization"));
        Assert.Equal("claude-3-5-haiku-20241022", GatewayHttp.BodyModel(received.Body));
    }

    [Fact]
    public async Task Azure_path_call_reaches_the_azure_deployment_with_its_api_version_and_api_key()
    {
        using var key = new SecretFile("azure-provider-key");
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { Name = "azure", RequiredApiKey = key.Secret });
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("az", "azure-openai", simulator.BaseAddress, key.Path, apiVersion: "2024-10-21"),
            UpstreamJson.Model("gpt-4o", """{ "provider": "az", "deployment": "my-dep" }""")));
        const string body = """{"messages":[{"role":"user","content":"Hello Azure"}]}""";

        using var response = await scenario.PostAsync("openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01&other=1", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        Assert.Equal("/openai/deployments/my-dep/chat/completions", received.Path);
        Assert.Equal("?api-version=2024-10-21", received.QueryString);
        Assert.Equal(key.Secret, received.Headers["api-key"]);
        Assert.False(received.Headers.ContainsKey("Authorization"));
        Assert.Equal(body, Encoding.UTF8.GetString(received.Body));
    }

    [Fact]
    public async Task OpenAI_dialect_call_to_an_azure_model_reaches_the_azure_deployment_path()
    {
        using var key = new SecretFile("azure-provider-key");
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { RequiredApiKey = key.Secret });
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("az", "azure-openai", simulator.BaseAddress, key.Path, apiVersion: "2024-10-21"),
            UpstreamJson.Model("gpt-4o", """{ "provider": "az", "deployment": "my-dep" }""")));

        using var response = await scenario.PostAsync("v1/chat/completions", Chat.Replace("MODEL", "gpt-4o", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        Assert.Equal("/openai/deployments/my-dep/chat/completions", received.Path);
        Assert.Equal("?api-version=2024-10-21", received.QueryString);
        Assert.Equal(key.Secret, received.Headers["api-key"]);
    }

    [Fact]
    public async Task OpenAI_call_reaches_the_openai_upstream_with_a_bearer_provider_key()
    {
        using var key = new SecretFile("openai-provider-key");
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { RequiredApiKey = key.Secret });
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("oai", "openai", simulator.BaseAddress, key.Path),
            UpstreamJson.Model("gpt-4o-mini", """{ "provider": "oai" }""")));

        using var response = await scenario.PostAsync("v1/chat/completions?ignored=1", Chat.Replace("MODEL", "gpt-4o-mini", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal(string.Empty, received.QueryString);
        Assert.Equal("Bearer " + key.Secret, received.Headers["Authorization"]);
    }

    [Fact]
    public async Task Upstream_speaks_http2_with_prior_knowledge_only_to_a_provider_set_to_http_version_2()
    {
        // A plain-http provider stays on HTTP/1.1 by default (no ALPN to negotiate h2); one set to "2" gets h2c and
        // works for JSON and streamed answers alike (an HTTP/2-only listener would refuse HTTP/1.1).
        using var key = new SecretFile("openai-provider-key");
        await using var http1 = await SimulatorServer.StartAsync(new SimulatorOptions { RequiredApiKey = key.Secret });
        await using var http2 = await SimulatorServer.StartAsync(new SimulatorOptions { RequiredApiKey = key.Secret }, http2Only: true);
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("h1", "openai", http1.BaseAddress, key.Path) + ", " + UpstreamJson.Provider("h2", "openai", http2.BaseAddress, key.Path, httpVersion: "2"),
            UpstreamJson.Model("model-h1", """{ "provider": "h1", "model": "gpt-4o-mini" }""") + ", " + UpstreamJson.Model("model-h2", """{ "provider": "h2", "model": "gpt-4o-mini" }""")));

        using var viaHttp1 = await scenario.PostAsync("v1/chat/completions", Chat.Replace("MODEL", "model-h1", StringComparison.Ordinal));
        using var viaHttp2 = await scenario.PostAsync("v1/chat/completions", Chat.Replace("MODEL", "model-h2", StringComparison.Ordinal));
        using var streamed = await scenario.PostAsync("v1/chat/completions", """{"model":"model-h2","stream":true,"messages":[{"role":"user","content":"Stream me"}]}""");

        Assert.Equal(HttpStatusCode.OK, viaHttp1.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viaHttp2.StatusCode);
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Contains("data: [DONE]", await streamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("HTTP/1.1", Assert.Single(http1.ReceivedRequests).Protocol);
        Assert.All(http2.ReceivedRequests, r => Assert.Equal("HTTP/2", r.Protocol));
        Assert.Equal(2, http2.ReceivedRequests.Count);
        Assert.Equal("Bearer " + key.Secret, http2.ReceivedRequests[0].Headers["Authorization"]);
    }

    [Fact]
    public async Task Azure_dialect_call_to_an_openai_compatible_deployment_gets_the_v1_path_and_the_model_in_the_body()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("vllm", "openai", simulator.BaseAddress),
            UpstreamJson.Model("llama", """{ "provider": "vllm", "model": "meta-llama/Llama-3.1-8B" }""")));

        using var response = await scenario.PostAsync("openai/deployments/llama/chat/completions?api-version=2024-10-21", """{ "messages": [{"role":"user","content":"Hi"}] }""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal(string.Empty, received.QueryString);
        Assert.Equal("meta-llama/Llama-3.1-8B", GatewayHttp.BodyModel(received.Body));
        Assert.Equal("Hi", System.Text.Json.JsonDocument.Parse(received.Body).RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Azure_dialect_body_that_names_a_model_reaches_an_openai_compatible_deployment_with_one_model_property()
    {
        // The Azure SDKs send "model" (the deployment name) in the body too; the upstream must see only its own name.
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("vllm", "openai", simulator.BaseAddress),
            UpstreamJson.Model("llama", """{ "provider": "vllm", "model": "meta-llama/Llama-3.1-8B" }""")));

        using var response = await scenario.PostAsync("openai/deployments/llama/chat/completions?api-version=2024-10-21", """{"model":"llama","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        var text = Encoding.UTF8.GetString(received.Body);
        Assert.Equal(1, CountOccurrences(text, "\"model\""));
        Assert.Equal("meta-llama/Llama-3.1-8B", GatewayHttp.BodyModel(received.Body));
    }

    [Fact]
    public async Task OpenAI_call_using_an_alias_sends_the_upstream_model_name()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("oai", "openai", simulator.BaseAddress),
            UpstreamJson.Model("gpt-4o-mini", """{ "provider": "oai", "model": "gpt-4o-mini-2024-07-18" }""", aliases: "\"mini\"")));
        const string body = """{ "model" : "mini", "messages": [ {"role":"user","content":"Alias \u00e9"} ], "temperature": 0.5 }""";

        using var response = await scenario.PostAsync("v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        // Only the model value changes; every other byte stays as the client wrote it.
        Assert.Equal(body.Replace("\"mini\"", "\"gpt-4o-mini-2024-07-18\"", StringComparison.Ordinal), Encoding.UTF8.GetString(received.Body));
    }

    [Fact]
    public async Task Body_is_forwarded_byte_for_byte_when_no_model_rewrite_applies()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("oai", "openai", simulator.BaseAddress),
            UpstreamJson.Model("gpt-4o-mini", """{ "provider": "oai" }""")));
        const string body = "{\n\t\"temperature\" :0.70,   \"messages\":[{\"content\":\"Quote \\\" slash \\/ uni \\u00e9 \\ud83d\\ude00 tab\\t\",\"role\":\"user\"}],\r\n  \"model\":\"gpt-4o-mini\" , \"z\":1e2 }  ";

        using var response = await scenario.PostAsync("v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        Assert.Equal(Encoding.UTF8.GetBytes(body), received.Body);
        Assert.Equal("application/json", received.Headers["Content-Type"]);
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
