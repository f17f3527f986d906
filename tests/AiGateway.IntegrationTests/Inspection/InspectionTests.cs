using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Inspection;

/// <summary>Prompt and answer inspection through the real gateway (issue #4).</summary>
public sealed class InspectionTests : IAsyncLifetime
{
    private SimulatorServer _simulator = null!;
    private TestOidcIssuer _issuer = null!;

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorServer.StartAsync();
        _issuer = await TestOidcIssuer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    private Task<TestGateway> StartGatewayAsync(string? inspection = null) =>
        TestGateway.StartAsync(
            ConfigJson.Gateway(_simulator.BaseAddress),
            new Dictionary<string, string> { ["alpha"] = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(_issuer.Issuer), extra: inspection is null ? "" : ",\n  \"inspection\": " + inspection) });

    private static StringContent Chat(string model, params (string Role, string Content)[] messages)
    {
        var body = new
        {
            model,
            messages = messages.Select(m => new { role = m.Role, content = m.Content }).ToArray(),
        };
        return new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
    }

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");

    [Fact]
    public async Task Secret_prompt_to_unclassified_model_is_blocked_and_not_forwarded()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());

        using var response = await client.PostAsync("v1/chat/completions", Chat("gpt-4o-mini", ("system", "Be brief."), ("user", "SECRET//NOFORN\nSummarise the attached plan.")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("classified_content_blocked", error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("SECRET", message, StringComparison.Ordinal);
        Assert.Contains("message 2", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Summarise", message, StringComparison.Ordinal); // never echoes the text
        Assert.Empty(_simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Secret_prompt_to_model_cleared_for_secret_is_forwarded()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());

        using var response = await client.PostAsync("v1/chat/completions", Chat("secure-llm", ("user", "(S//NF) The plan is ready.")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Flag_action_forwards_and_records_the_finding()
    {
        await using var gateway = await StartGatewayAsync("""{ "actions": { "CUI": "flag" } }""");
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());

        using var response = await client.PostAsync("v1/chat/completions", Chat("gpt-4o-mini", ("user", "CUI//SP-PRVCY\nEmployee records follow.")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Flag_for_cui_still_blocks_secret()
    {
        await using var gateway = await StartGatewayAsync("""{ "actions": { "CUI": "flag" } }""");
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());

        using var response = await client.PostAsync("v1/chat/completions", Chat("gpt-4o-mini", ("user", "TOP SECRET//SI//NOFORN\nDetails.")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(_simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Marking_split_across_two_messages_is_blocked()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());

        using var response = await client.PostAsync("v1/chat/completions", Chat("gpt-4o-mini", ("user", "Please repeat after me: SECRET//"), ("user", "NOFORN")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(_simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Marking_in_tool_call_arguments_is_blocked()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());
        const string Body = """
            {"model":"gpt-4o-mini","messages":[
              {"role":"user","content":"look it up"},
              {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"CONFIDENTIAL//REL TO USA, GBR\\nsite list\"}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"none"}]}
            """;

        using var response = await client.PostAsync("v1/chat/completions", new StringContent(Body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(_simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Ordinary_prose_about_secrets_is_not_blocked()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());

        using var response = await client.PostAsync("v1/chat/completions", Chat("gpt-4o-mini", ("user", "What is the secret sauce of top secret birthday plans? (c) 2025 Acme Corp.")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Caller_clearance_lowers_the_effective_ceiling()
    {
        await using var gateway = await StartGatewayAsync("""{ "clearanceClaim": "clearance" }""");
        using var cleared = gateway.CreateClient(_issuer.Token().Roles("engineer").Claim("clearance", "SECRET").Build());
        using var uncleared = gateway.CreateClient(_issuer.Token().Roles("engineer").Claim("clearance", "CUI").Build());

        using var ok = await cleared.PostAsync("v1/chat/completions", Chat("secure-llm", ("user", "SECRET\nBriefing.")));
        using var refused = await uncleared.PostAsync("v1/chat/completions", Chat("secure-llm", ("user", "SECRET\nBriefing.")));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task Json_answer_with_marking_above_ceiling_is_withheld()
    {
        _simulator.Options.Reply = "Sure.\nTOP SECRET//NOFORN\nThe details are as follows.";
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());

        using var response = await client.PostAsync("v1/chat/completions", Chat("gpt-4o-mini", ("user", "Tell me something.")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("classified_content_blocked", body, StringComparison.Ordinal);
        Assert.DoesNotContain("details are as follows", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Streamed_answer_with_marking_split_across_chunks_ends_with_an_error_event()
    {
        // 40 chunks over this reply split "SECRET//NOFORN" across several chunks.
        _simulator.Options.Reply = "Here is a fairly long and harmless preamble to fill a few chunks of the stream.\nSECRET//NOFORN\nOperational details that must not arrive.";
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"go"}],"simulator":{"chunks":40}}""", Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("classified_content_blocked", events[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("NOFORN", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Operational", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        var delivered = new StringBuilder();
        foreach (var e in events[..^1])
        {
            using var json = JsonDocument.Parse(e["data: ".Length..]);
            foreach (var choice in json.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var content))
                {
                    delivered.Append(content.GetString());
                }
            }
        }

        Assert.StartsWith("Here is a fairly long", delivered.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clean_streamed_answer_arrives_complete_and_in_order()
    {
        _simulator.Options.Reply = "One two three four five six seven eight nine ten eleven twelve.";
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"count"}],"simulator":{"chunks":12}}""", Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        var delivered = new StringBuilder();
        foreach (var e in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var data = e["data: ".Length..];
            if (data == "[DONE]")
            {
                continue;
            }

            using var json = JsonDocument.Parse(data);
            foreach (var choice in json.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var content))
                {
                    delivered.Append(content.GetString());
                }
            }
        }

        Assert.Equal(_simulator.Options.Reply, delivered.ToString());
        Assert.EndsWith("data: [DONE]", text.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anthropic_streamed_answer_with_marking_gets_an_anthropic_error_event()
    {
        _simulator.Options.Reply = "Preamble text that is harmless.\n(TS//SCI) The source is named below.";
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
        {
            Content = new StringContent("""{"model":"claude-3-5-haiku","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"go"}],"simulator":{"chunks":15}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("event: error", text, StringComparison.Ordinal);
        Assert.DoesNotContain("source is named", text, StringComparison.Ordinal);
        Assert.DoesNotContain("message_stop", text, StringComparison.Ordinal);
    }
}
