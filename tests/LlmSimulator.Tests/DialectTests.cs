using System.Net;

namespace LlmSimulator.Tests;

public sealed class DialectTests
{
    [Fact]
    public async Task Azure_chat_requires_api_version()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("openai/deployments/gpt4o-prod/chat/completions", """{"messages":[]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("api-version", (await Http.JsonAsync(response)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Azure_chat_echoes_the_deployment_as_model()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21", """{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gpt4o-prod", (await Http.JsonAsync(response)).GetProperty("model").GetString());
    }

    [Fact]
    public async Task Azure_embeddings_echo_the_deployment()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("openai/deployments/emb/embeddings?api-version=2024-10-21", """{"input":["a","b"]}"""));

        var json = await Http.JsonAsync(response);
        Assert.Equal("emb", json.GetProperty("model").GetString());
        Assert.Equal(2, json.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Anthropic_requires_the_version_header()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/messages", """{"model":"claude","max_tokens":10,"messages":[]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = await Http.JsonAsync(response);
        Assert.Equal("error", json.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", json.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Anthropic_message_has_text_content_and_usage()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/messages", """{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}""", ("anthropic-version", "2023-06-01")));

        var json = await Http.JsonAsync(response);
        Assert.Equal("message", json.GetProperty("type").GetString());
        Assert.Equal("assistant", json.GetProperty("role").GetString());
        Assert.Equal("end_turn", json.GetProperty("stop_reason").GetString());
        var text = json.GetProperty("content")[0].GetProperty("text").GetString()!;
        var usage = json.GetProperty("usage");
        Assert.Equal(Http.PromptTokens(4 + 2), usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(Http.Words(text), usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("cache_creation_input_tokens").GetInt32());
    }

    [Theory]
    [InlineData("v1/chat/completions", "Authorization", "Bearer sk-test", "invalid_api_key")]
    [InlineData("openai/deployments/d/chat/completions?api-version=1", "api-key", "sk-test", "invalid_api_key")]
    [InlineData("v1/messages", "x-api-key", "sk-test", "authentication_error")]
    public async Task Required_api_key_is_enforced_in_each_dialect(string path, string header, string goodValue, string errorName)
    {
        await using var sim = await SimulatorHarness.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-test" });
        const string body = """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""";
        (string, string) version = ("anthropic-version", "2023-06-01");

        using var missing = await sim.Client.SendAsync(Http.Post(path, body, version));
        using var wrong = await sim.Client.SendAsync(Http.Post(path, body, version, (header, goodValue.Replace("sk-test", "sk-wrong", StringComparison.Ordinal))));
        using var good = await sim.Client.SendAsync(Http.Post(path, body, version, (header, goodValue)));

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Contains(errorName, await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Openai_key_in_the_wrong_header_is_rejected()
    {
        await using var sim = await SimulatorHarness.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-test" });

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", """{"model":"m"}""", ("api-key", "sk-test")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
