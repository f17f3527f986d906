namespace AiGateway.Model;

/// <summary>The wire dialect a client speaks; it decides the request shape and the error shape.</summary>
internal enum ApiDialect
{
    OpenAI,
    AzureOpenAI,
    Anthropic,
}

/// <summary>What the client asks the model to do.</summary>
internal enum ApiOperation
{
    ChatCompletions,
    Responses,
    Embeddings,
    Messages,
    ListModels,
    Unknown,
}

/// <summary>A recognised gateway endpoint: dialect, operation and (Azure) deployment from the path.</summary>
internal readonly record struct ApiEndpoint(ApiDialect Dialect, ApiOperation Operation, string? AzureDeployment)
{
    /// <summary>
    /// Classifies a request path. Unknown paths still get a dialect so their 404 uses the caller's error shape.
    /// </summary>
    public static ApiEndpoint Classify(PathString path)
    {
        var value = path.Value ?? string.Empty;
        if (value.StartsWith("/openai/", StringComparison.OrdinalIgnoreCase))
        {
            // /openai/deployments/{deployment}/{operation...}
            const string Prefix = "/openai/deployments/";
            if (value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                var rest = value.AsSpan(Prefix.Length);
                var slash = rest.IndexOf('/');
                if (slash > 0)
                {
                    var deployment = Uri.UnescapeDataString(rest[..slash].ToString());
                    var operation = rest[(slash + 1)..];
                    if (operation.Equals("chat/completions", StringComparison.OrdinalIgnoreCase))
                    {
                        return new(ApiDialect.AzureOpenAI, ApiOperation.ChatCompletions, deployment);
                    }

                    if (operation.Equals("embeddings", StringComparison.OrdinalIgnoreCase))
                    {
                        return new(ApiDialect.AzureOpenAI, ApiOperation.Embeddings, deployment);
                    }
                }
            }

            return new(ApiDialect.AzureOpenAI, ApiOperation.Unknown, null);
        }

        if (value.StartsWith("/v1/messages", StringComparison.OrdinalIgnoreCase))
        {
            return new(ApiDialect.Anthropic, value.Length == "/v1/messages".Length ? ApiOperation.Messages : ApiOperation.Unknown, null);
        }

        var op = value switch
        {
            "/v1/chat/completions" => ApiOperation.ChatCompletions,
            "/v1/responses" => ApiOperation.Responses,
            "/v1/embeddings" => ApiOperation.Embeddings,
            "/v1/models" => ApiOperation.ListModels,
            _ => ApiOperation.Unknown,
        };
        return new(ApiDialect.OpenAI, op, null);
    }
}
