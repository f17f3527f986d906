using System.Text;
using System.Text.Json;
using AiGateway.Configuration;
using AiGateway.Forwarding;
using AiGateway.Model;
using AiGateway.Parsing;

namespace AiGateway.Tests.Forwarding;

public sealed class UpstreamRequestTransformTests
{
    private static readonly ApiEndpoint s_chat = new(ApiDialect.OpenAI, ApiOperation.ChatCompletions, null);

    private static UpstreamDeployment Deployment(ProviderApi api, string upstreamModel) => new()
    {
        DestinationId = "0:p",
        Provider = new UpstreamProvider { Name = "p", Api = api, BaseUrl = new Uri("http://127.0.0.1:9/"), ApiVersion = "2024-10-21" },
        AzureDeployment = api == ProviderApi.AzureOpenAI ? "dep" : null,
        UpstreamModel = upstreamModel,
    };

    private static string? Rewrite(string body, ApiEndpoint endpoint, UpstreamDeployment deployment)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = LlmRequestParser.Parse(bytes, endpoint, out var error) ?? throw new InvalidOperationException(error!.Message);
        var rewritten = UpstreamRequestTransform.RewriteBody(bytes, request, deployment);
        return rewritten is null ? null : Encoding.UTF8.GetString(rewritten);
    }

    [Fact]
    public void RewriteBody_leaves_the_body_alone_when_the_upstream_uses_the_same_model_name()
    {
        Assert.Null(Rewrite("""{ "model":"gpt-4o", "messages":[] }""", s_chat, Deployment(ProviderApi.OpenAI, "gpt-4o")));
    }

    [Fact]
    public void RewriteBody_replaces_only_the_model_value_for_another_upstream_name()
    {
        const string body = "{\n  \"messages\" : [ {\"role\":\"user\",\"content\":\"\\u00e9\"} ],\n  \"model\"  :  \"mini\" ,\"z\":1\n}";

        var rewritten = Rewrite(body, s_chat, Deployment(ProviderApi.OpenAI, "gpt-4o-mini-2024-07-18"));

        Assert.Equal(body.Replace("\"mini\"", "\"gpt-4o-mini-2024-07-18\"", StringComparison.Ordinal), rewritten);
    }

    [Fact]
    public void RewriteBody_json_escapes_the_upstream_model_name()
    {
        var rewritten = Rewrite("""{"model":"m","messages":[]}""", s_chat, Deployment(ProviderApi.OpenAI, "org/model \"v2\""));

        Assert.Equal("org/model \"v2\"", JsonDocument.Parse(rewritten!).RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public void RewriteBody_gives_an_anthropic_upstream_its_own_model_name()
    {
        var rewritten = Rewrite(
            """{"model":"claude-3-5-haiku","max_tokens":10,"messages":[]}""",
            new ApiEndpoint(ApiDialect.Anthropic, ApiOperation.Messages, null),
            Deployment(ProviderApi.Anthropic, "claude-3-5-haiku-20241022"));

        Assert.Equal("""{"model":"claude-3-5-haiku-20241022","max_tokens":10,"messages":[]}""", rewritten);
    }

    [Fact]
    public void RewriteBody_never_touches_a_body_for_an_azure_upstream()
    {
        Assert.Null(Rewrite("""{"model":"gpt-4o","messages":[]}""", s_chat, Deployment(ProviderApi.AzureOpenAI, "dep")));
        Assert.Null(Rewrite("""{"messages":[]}""", new ApiEndpoint(ApiDialect.AzureOpenAI, ApiOperation.ChatCompletions, "gpt-4o"), Deployment(ProviderApi.AzureOpenAI, "dep")));
    }

    [Fact]
    public void RewriteBody_inserts_the_model_into_an_azure_dialect_body_without_one()
    {
        var endpoint = new ApiEndpoint(ApiDialect.AzureOpenAI, ApiOperation.ChatCompletions, "llama");

        var rewritten = Rewrite("""  { "messages": [{"role":"user","content":"hi"}] }""", endpoint, Deployment(ProviderApi.OpenAI, "meta/llama"));

        Assert.Equal("""  {"model":"meta/llama", "messages": [{"role":"user","content":"hi"}] }""", rewritten);
    }

    [Fact]
    public void RewriteBody_inserts_the_model_into_an_empty_azure_dialect_body_as_valid_json()
    {
        var rewritten = Rewrite("{ }", new ApiEndpoint(ApiDialect.AzureOpenAI, ApiOperation.Embeddings, "e"), Deployment(ProviderApi.OpenAI, "embed-v3"));

        Assert.Equal("embed-v3", JsonDocument.Parse(rewritten!).RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public void RewriteBody_replaces_a_model_named_in_an_azure_dialect_body_instead_of_adding_a_second_one()
    {
        var rewritten = Rewrite("""{"model":"llama","messages":[]}""", new ApiEndpoint(ApiDialect.AzureOpenAI, ApiOperation.ChatCompletions, "llama"), Deployment(ProviderApi.OpenAI, "meta/llama"));

        Assert.Equal("""{"model":"meta/llama","messages":[]}""", rewritten);
    }

    [Fact]
    public void RewriteBody_replaces_an_azure_dialect_body_model_that_differs_from_the_path_deployment()
    {
        var rewritten = Rewrite("""{"model":"whatever-the-sdk-sent","messages":[]}""", new ApiEndpoint(ApiDialect.AzureOpenAI, ApiOperation.ChatCompletions, "gpt-4o-mini"), Deployment(ProviderApi.OpenAI, "gpt-4o-mini"));

        Assert.Equal("""{"model":"gpt-4o-mini","messages":[]}""", rewritten);
    }

    [Theory]
    [InlineData("120", 120)]
    [InlineData("0", 0)]
    public void TryGetRetryAfter_reads_delta_seconds(string value, int seconds)
    {
        var headers = new Microsoft.AspNetCore.Http.HeaderDictionary { ["Retry-After"] = value };

        Assert.True(FailoverMiddleware.TryGetRetryAfter(headers, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(seconds), retryAfter);
    }

    [Fact]
    public void TryGetRetryAfter_reads_an_http_date_and_ignores_garbage()
    {
        var headers = new Microsoft.AspNetCore.Http.HeaderDictionary { ["Retry-After"] = DateTimeOffset.UtcNow.AddMinutes(10).ToString("R") };
        Assert.True(FailoverMiddleware.TryGetRetryAfter(headers, out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));

        Assert.False(FailoverMiddleware.TryGetRetryAfter(new Microsoft.AspNetCore.Http.HeaderDictionary { ["Retry-After"] = "soon" }, out _));
        Assert.False(FailoverMiddleware.TryGetRetryAfter(new Microsoft.AspNetCore.Http.HeaderDictionary { ["Retry-After"] = "-5" }, out _));
        Assert.False(FailoverMiddleware.TryGetRetryAfter(new Microsoft.AspNetCore.Http.HeaderDictionary(), out _));
    }
}
