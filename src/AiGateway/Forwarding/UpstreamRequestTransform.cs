using System.Net.Http.Headers;
using System.Text;
using AiGateway.Configuration;
using AiGateway.Model;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway.Forwarding;

/// <summary>
/// Shapes the upstream request for the chosen deployment: the provider's path and query, an allow-list of
/// client headers (so no caller credential, cookie or provider key ever passes), the provider's own key,
/// and the body — unchanged unless the deployment expects another model name.
/// </summary>
internal static class UpstreamRequestTransform
{
    /// <summary>Client headers an upstream may see. Everything else (Authorization, api-key, x-api-key, cookies, …) is dropped.</summary>
    private static readonly string[] s_forwardedHeaders = ["Accept", "anthropic-version", "anthropic-beta", "OpenAI-Beta"];

    private static readonly ProductInfoHeaderValue s_userAgent = new("AiGateway", "1.0");
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    public static ValueTask ApplyAsync(RequestTransformContext context)
    {
        var http = context.HttpContext;
        var feature = http.GetGatewayFeature();
        var destination = http.GetReverseProxyFeature().ProxiedDestination
            ?? throw new InvalidOperationException("No destination was chosen before the request transform.");
        var model = feature.Model!;
        var request = feature.Request!;
        var deployment = model.DeploymentsByDestination[destination.DestinationId];
        var provider = deployment.Provider;
        feature.Deployment = deployment;

        context.ProxyRequest.RequestUri = BuildUri(context.DestinationPrefix, provider, deployment, request.Endpoint);

        var headers = context.ProxyRequest.Headers;
        foreach (var name in s_forwardedHeaders)
        {
            if (http.Request.Headers.TryGetValue(name, out var values))
            {
                headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
            }
        }

        headers.UserAgent.Add(s_userAgent);
        headers.TryAddWithoutValidation("X-Request-Id", http.TraceIdentifier);
        AddCredential(headers, provider);

        // A fresh stream over the buffered body for this attempt (failover sends it again).
        var replacement = RewriteBody(feature.Body!.Span, request, deployment);
        http.Request.Body = feature.Body.OpenRead(replacement);
        var content = context.ProxyRequest.Content;
        if (content is not null)
        {
            content.Headers.ContentType = s_json;
            content.Headers.ContentLength = replacement?.Length ?? feature.Body.Length;
        }

        return ValueTask.CompletedTask;
    }

    private static Uri BuildUri(string destinationPrefix, UpstreamProvider provider, UpstreamDeployment deployment, ApiEndpoint endpoint)
    {
        var prefix = destinationPrefix.TrimEnd('/');
        var path = provider.Api switch
        {
            ProviderApi.AzureOpenAI => endpoint.Operation switch
            {
                ApiOperation.Embeddings => $"/openai/deployments/{Uri.EscapeDataString(deployment.AzureDeployment!)}/embeddings?api-version={Uri.EscapeDataString(provider.ApiVersion!)}",
                _ => $"/openai/deployments/{Uri.EscapeDataString(deployment.AzureDeployment!)}/chat/completions?api-version={Uri.EscapeDataString(provider.ApiVersion!)}",
            },
            ProviderApi.Anthropic => "/v1/messages",
            _ => endpoint.Operation switch
            {
                ApiOperation.Embeddings => "/v1/embeddings",
                ApiOperation.Responses => "/v1/responses",
                _ => "/v1/chat/completions",
            },
        };
        return new Uri(prefix + path, UriKind.Absolute);
    }

    private static void AddCredential(HttpRequestHeaders headers, UpstreamProvider provider)
    {
        if (provider.ApiKey is null)
        {
            return;
        }

        switch (provider.Api)
        {
            case ProviderApi.AzureOpenAI:
                headers.TryAddWithoutValidation("api-key", provider.ApiKey);
                break;
            case ProviderApi.Anthropic:
                headers.TryAddWithoutValidation("x-api-key", provider.ApiKey);
                break;
            default:
                headers.Authorization = new AuthenticationHeaderValue("Bearer", provider.ApiKey);
                break;
        }
    }

    /// <summary>
    /// The body goes upstream byte for byte, except: an OpenAI-compatible upstream named by another model
    /// name gets that name, and an Azure-dialect body (no <c>model</c>) sent to such an upstream gets one.
    /// </summary>
    internal static byte[]? RewriteBody(ReadOnlySpan<byte> body, LlmRequest request, UpstreamDeployment deployment)
    {
        if (deployment.Provider.Api == ProviderApi.AzureOpenAI)
        {
            return null; // Azure reads the deployment from the path.
        }

        var range = request.ModelValueRange;
        var (start, end) = (range.Start.Value, range.End.Value);
        if (end > start)
        {
            // An Azure-dialect body may name a model too (the Azure SDKs send the deployment name); it is replaced, never duplicated.
            var bodyModel = request.Endpoint.Dialect == ApiDialect.AzureOpenAI
                ? System.Text.Json.JsonSerializer.Deserialize<string>(body[start..end])
                : request.Model;
            if (string.Equals(bodyModel, deployment.UpstreamModel, StringComparison.Ordinal))
            {
                return null;
            }

            var quoted = JsonQuoted(deployment.UpstreamModel);
            var rewritten = new byte[body.Length - (end - start) + quoted.Length];
            body[..start].CopyTo(rewritten);
            quoted.CopyTo(rewritten.AsSpan(start));
            body[end..].CopyTo(rewritten.AsSpan(start + quoted.Length));
            return rewritten;
        }

        // No model in the body: insert it as the first property.
        var open = body.IndexOf((byte)'{');
        var rest = body[(open + 1)..];
        var isEmptyObject = rest.Trim(" \t\r\n"u8).SequenceEqual("}"u8);
        var insert = Encoding.UTF8.GetBytes("\"model\":" + Encoding.UTF8.GetString(JsonQuoted(deployment.UpstreamModel)) + (isEmptyObject ? string.Empty : ","));
        var result = new byte[body.Length + insert.Length];
        body[..(open + 1)].CopyTo(result);
        insert.CopyTo(result.AsSpan(open + 1));
        rest.CopyTo(result.AsSpan(open + 1 + insert.Length));
        return result;
    }

    private static byte[] JsonQuoted(string value) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value);
}
