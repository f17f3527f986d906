using AiGateway.Model;
using Microsoft.AspNetCore.Http;

namespace AiGateway.Tests.Model;

public sealed class ApiEndpointTests
{
    [Theory]
    [InlineData("/v1/chat/completions", "OpenAI", "ChatCompletions", null)]
    [InlineData("/v1/responses", "OpenAI", "Responses", null)]
    [InlineData("/v1/embeddings", "OpenAI", "Embeddings", null)]
    [InlineData("/v1/models", "OpenAI", "ListModels", null)]
    [InlineData("/v1/messages", "Anthropic", "Messages", null)]
    [InlineData("/V1/MESSAGES", "Anthropic", "Messages", null)]
    [InlineData("/openai/deployments/gpt-4o/chat/completions", "AzureOpenAI", "ChatCompletions", "gpt-4o")]
    [InlineData("/openai/deployments/my%20dep/embeddings", "AzureOpenAI", "Embeddings", "my dep")]
    [InlineData("/OpenAI/Deployments/d1/Chat/Completions", "AzureOpenAI", "ChatCompletions", "d1")]
    public void Classify_recognises_every_served_endpoint(string path, string dialect, string operation, string? deployment)
    {
        Assert.Equal(new ApiEndpoint(Enum.Parse<ApiDialect>(dialect), Enum.Parse<ApiOperation>(operation), deployment), ApiEndpoint.Classify(new PathString(path)));
    }

    [Theory]
    [InlineData("/v1/messages/batches", "Anthropic")]
    [InlineData("/v1/messages/count_tokens", "Anthropic")]
    [InlineData("/openai/deployments/d1/images/generations", "AzureOpenAI")]
    [InlineData("/openai/deployments//chat/completions", "AzureOpenAI")]
    [InlineData("/openai/deployments/d1", "AzureOpenAI")]
    [InlineData("/openai/models", "AzureOpenAI")]
    [InlineData("/v1/chat/completions/", "OpenAI")]
    [InlineData("/v1/completions", "OpenAI")]
    [InlineData("/", "OpenAI")]
    [InlineData("", "OpenAI")]
    public void Classify_gives_unknown_paths_the_dialect_of_their_error_shape(string path, string dialect)
    {
        var endpoint = ApiEndpoint.Classify(new PathString(path));

        Assert.Equal(Enum.Parse<ApiDialect>(dialect), endpoint.Dialect);
        Assert.Equal(ApiOperation.Unknown, endpoint.Operation);
        Assert.Null(endpoint.AzureDeployment);
    }
}
