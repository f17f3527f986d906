using System.Buffers;
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
        feature.UpstreamSendTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();

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

        // The buffered body for this attempt (failover sends it again), sent in place of YARP's streamed copy.
        var replacement = RewriteBody(feature.Body!.Span, request, deployment);
        context.ProxyRequest.Options.Set(BufferedBodyHandler.BodyKey, new BufferedBodyContent(feature.Body, replacement));

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
    /// The body goes upstream byte for byte, except: an OpenAI-compatible upstream named by another model name
    /// gets that name, an Azure-dialect body (no <c>model</c>) sent to such an upstream gets one, and a streamed
    /// OpenAI chat request asks for the usage chunk (the gateway needs the usage; the client does not see the
    /// chunk unless it asked for it).
    /// </summary>
    internal static byte[]? RewriteBody(ReadOnlySpan<byte> body, LlmRequest request, UpstreamDeployment deployment)
    {
        var openAIFamily = deployment.Provider.Api != ProviderApi.Anthropic;
        var edits = new List<(int Start, int End, string Text)>(2);
        var open = body.IndexOf((byte)'{') + 1;
        var insert = new StringBuilder();

        // Azure reads the deployment from the path; OpenAI-compatible and Anthropic upstreams read the body's model.
        if (deployment.Provider.Api != ProviderApi.AzureOpenAI)
        {
            var (start, end) = (request.ModelValueRange.Start.Value, request.ModelValueRange.End.Value);
            if (end > start)
            {
                // An Azure-dialect body may name a model of its own (the Azure SDKs send one); compare what the body says.
                var bodyModel = request.Endpoint.Dialect == ApiDialect.AzureOpenAI
                    ? System.Text.Json.JsonSerializer.Deserialize<string>(body[start..end])
                    : request.Model;
                if (!string.Equals(bodyModel, deployment.UpstreamModel, StringComparison.Ordinal))
                {
                    edits.Add((start, end, JsonQuoted(deployment.UpstreamModel)));
                }
            }
            else
            {
                insert.Append("\"model\":").Append(JsonQuoted(deployment.UpstreamModel)).Append(',');
            }
        }

        if (openAIFamily && request.Stream && !request.StreamIncludeUsage && request.Endpoint.Operation == ApiOperation.ChatCompletions)
        {
            var (start, end) = (request.StreamOptionsRange.Start.Value, request.StreamOptionsRange.End.Value);
            if (end > start)
            {
                edits.Add((start, end, "{\"include_usage\":true}"));
            }
            else
            {
                insert.Append("\"stream_options\":{\"include_usage\":true},");
            }
        }

        if (insert.Length > 0)
        {
            // Inserted as the first members; the trailing comma is dropped for an otherwise empty object.
            var isEmptyObject = body[open..].Trim(" \t\r\n"u8).SequenceEqual("}"u8);
            if (isEmptyObject)
            {
                insert.Length--;
            }

            edits.Insert(0, (open, open, insert.ToString()));
        }

        if (edits.Count == 0)
        {
            return null;
        }

        edits.Sort((a, b) => a.Start.CompareTo(b.Start));
        var output = new ArrayBufferWriter<byte>(body.Length + 64);
        var position = 0;
        foreach (var (start, end, text) in edits)
        {
            output.Write(body[position..start]);
            output.Write(Encoding.UTF8.GetBytes(text));
            position = end;
        }

        output.Write(body[position..]);
        return output.WrittenSpan.ToArray();
    }

    private static string JsonQuoted(string value) => System.Text.Json.JsonSerializer.Serialize(value);
}
