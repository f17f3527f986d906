using System.Net;
using System.Text.Json;

namespace LlmSimulator.Tests;

public sealed class ChatCompletionsTests
{
    private const string TwoMessages = """
        {"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Tell me about the weather today"}]}
        """;

    [Fact]
    public async Task Chat_completion_usage_follows_the_token_rule()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", TwoMessages));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await Http.JsonAsync(response);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.Equal("gpt-4o", json.GetProperty("model").GetString());
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        var reply = choice.GetProperty("message").GetProperty("content").GetString()!;
        Assert.Contains("to 2 messages about \"Tell me about\"", reply, StringComparison.Ordinal);

        // "system" + "Be brief." + "user" + "Tell me about the weather today" = 6 + 9 + 4 + 31 = 50 chars.
        var usage = json.GetProperty("usage");
        Assert.Equal(Http.PromptTokens(50), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(Http.Words(reply), usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(
            usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(),
            usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Fact]
    public async Task Same_request_gets_the_same_reply()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var first = await sim.Client.SendAsync(Http.Post("v1/chat/completions", TwoMessages));
        using var second = await sim.Client.SendAsync(Http.Post("v1/chat/completions", TwoMessages));

        var a = (await Http.JsonAsync(first)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        var b = (await Http.JsonAsync(second)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task Reply_directive_sets_the_answer_and_usage_details()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        const string body = """
            {"model":"m","messages":[{"role":"user","content":"0123456789012345678901234567890123456789"}],
             "simulator":{"reply":"Exactly four words here","cached_tokens":3,"reasoning_tokens":5}}
            """;

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", body));

        var json = await Http.JsonAsync(response);
        Assert.Equal("Exactly four words here", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(Http.PromptTokens(4 + 40), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(4 + 5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(3, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Fact]
    public async Task Content_parts_and_escapes_count_as_decoded_text()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        // "é" escaped as \u00e9 and a quote: decoded text is "héllo \"x\"" = 9 chars.
        const string body = """
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"h\u00e9llo \"x\""}]}]}
            """;

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", body));

        var json = await Http.JsonAsync(response);
        // "user" + "text" + "héllo \"x\"" = 4 + 4 + 9.
        Assert.Equal(Http.PromptTokens(17), json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Contains("about \"héllo \"x\"\"", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Responses_api_answers_with_output_text_and_usage()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/responses", """{"model":"gpt-4.1","instructions":"abcd","input":"What is up"}"""));

        var json = await Http.JsonAsync(response);
        Assert.Equal("response", json.GetProperty("object").GetString());
        var item = json.GetProperty("output")[0];
        Assert.Equal("message", item.GetProperty("type").GetString());
        Assert.Equal("assistant", item.GetProperty("role").GetString());
        var text = item.GetProperty("content")[0];
        Assert.Equal("output_text", text.GetProperty("type").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(Http.PromptTokens(4 + 10), usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(Http.Words(text.GetProperty("text").GetString()!), usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Fact]
    public async Task Embeddings_return_one_vector_per_input()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/embeddings", """{"model":"text-embedding-3-small","input":["alpha","beta","alpha"],"dimensions":8}"""));

        var json = await Http.JsonAsync(response);
        var data = json.GetProperty("data");
        Assert.Equal(3, data.GetArrayLength());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            Assert.Equal(8, data[i].GetProperty("embedding").GetArrayLength());
        }

        Assert.Equal(data[0].GetProperty("embedding").GetRawText(), data[2].GetProperty("embedding").GetRawText());
        Assert.NotEqual(data[0].GetProperty("embedding").GetRawText(), data[1].GetProperty("embedding").GetRawText());
        Assert.Equal(Http.PromptTokens(5 + 4 + 5), json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Embeddings_of_a_single_string_default_to_16_dimensions()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/embeddings", """{"model":"e","input":"one"}"""));

        var data = (await Http.JsonAsync(response)).GetProperty("data");
        Assert.Equal(1, data.GetArrayLength());
        Assert.Equal(16, data[0].GetProperty("embedding").GetArrayLength());
    }

    [Fact]
    public async Task Models_are_listed()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        var json = JsonDocument.Parse(await sim.Client.GetStringAsync("v1/models")).RootElement;

        Assert.Equal("list", json.GetProperty("object").GetString());
        Assert.True(json.GetProperty("data").GetArrayLength() > 0);
    }

    [Theory]
    [InlineData("v1/chat/completions", "{\"model\":\"m\",")]
    [InlineData("v1/chat/completions", "not json")]
    [InlineData("v1/chat/completions", "[]")]
    [InlineData("v1/chat/completions", "{\"model\":\"m\"} trailing")]
    [InlineData("v1/chat/completions", "{\"messages\":[]}")]
    [InlineData("v1/responses", "{\"input\":\"x\"}")]
    [InlineData("v1/embeddings", "{\"input\":\"x\"}")]
    [InlineData("v1/chat/completions", "{\"model\":\"m\",\"simulator\":{\"chunkz\":3}}")]
    [InlineData("v1/chat/completions", "{\"model\":\"m\",\"simulator\":{\"fault\":\"explode\"}}")]
    public async Task Malformed_or_incomplete_request_is_400_in_openai_shape(string path, string body)
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post(path, body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Http.JsonAsync(response)).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Every_response_carries_the_simulator_name()
    {
        await using var sim = await SimulatorHarness.StartAsync(new SimulatorOptions { Name = "upstream-a" });

        using var ok = await sim.Client.SendAsync(Http.Post("v1/chat/completions", TwoMessages));
        using var bad = await sim.Client.SendAsync(Http.Post("v1/chat/completions", "{"));

        Assert.Equal("upstream-a", Assert.Single(ok.Headers.GetValues("x-simulator-name")));
        Assert.Equal("upstream-a", Assert.Single(bad.Headers.GetValues("x-simulator-name")));
        Assert.Contains("from upstream-a", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
