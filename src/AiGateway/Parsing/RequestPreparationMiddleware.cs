using AiGateway.Configuration;
using AiGateway.Forwarding;
using AiGateway.Model;
using Yarp.ReverseProxy;

namespace AiGateway.Parsing;

/// <summary>
/// Stage 3: reads the body once (size-capped), parses it into the <see cref="LlmRequest"/> view, resolves the
/// model (404 when the caller's agency has no such model) and points YARP at the model's cluster.
/// </summary>
internal sealed class RequestPreparationMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IProxyStateLookup _proxyState;

    public RequestPreparationMiddleware(RequestDelegate next, IProxyStateLookup proxyState)
    {
        _next = next;
        _proxyState = proxyState;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var config = feature.Config;
        var endpoint = feature.Endpoint;

        if (endpoint.Dialect == ApiDialect.Anthropic && !context.Request.Headers.ContainsKey("anthropic-version"))
        {
            await context.RejectAsync(GatewayError.InvalidRequest("The anthropic-version header is required."));
            return;
        }

        RequestBody? body;
        try
        {
            body = await RequestBody.ReadAsync(context.Request, config.RequestLimits.MaxBodyBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            // Malformed framing (bad chunk size, truncated chunk) is the client's fault: 400, not the catch-all 500.
            context.Response.Headers.Connection = "close";
            await context.RejectAsync(GatewayError.InvalidRequest($"The request body is malformed ({ex.StatusCode})."));
            return;
        }

        if (body is null)
        {
            context.Response.Headers.Connection = "close"; // the rest of an oversized body is not read
            await context.RejectAsync(GatewayError.BodyTooLarge(config.RequestLimits.MaxBodyBytes));
            return;
        }

        context.Response.RegisterForDispose(body);
        feature.Body = body;

        var request = LlmRequestParser.Parse(body.Span, endpoint, out var error);
        if (request is null)
        {
            await context.RejectAsync(error!);
            return;
        }

        feature.Request = request;
        if (!config.ModelsByName.TryGetValue(request.Model, out var model)
            || !config.Agencies.TryGetValue(feature.Caller!.Agency, out var agency)
            || !agency.Models.Matches(model))
        {
            await context.RejectAsync(GatewayError.ModelNotFound(request.Model));
            return;
        }

        feature.Model = model;
        if (Incompatible(endpoint, model) is { } mismatch)
        {
            await context.RejectAsync(mismatch);
            return;
        }

        if (!_proxyState.TryGetCluster(model.ClusterId, out var cluster))
        {
            // The YARP view of a just-reloaded configuration is not applied yet.
            await context.RejectAsync(GatewayError.NoHealthyUpstream());
            return;
        }

        context.ReassignProxyRequest(cluster);
        await _next(context);
    }

    private static GatewayError? Incompatible(ApiEndpoint endpoint, ModelRoute model)
    {
        var anthropicModel = model.Api == ProviderApi.Anthropic;
        if (endpoint.Dialect == ApiDialect.Anthropic && !anthropicModel)
        {
            return GatewayError.InvalidRequest($"The model '{model.Name}' is served through the OpenAI API; call POST /v1/chat/completions.");
        }

        if (endpoint.Dialect != ApiDialect.Anthropic && anthropicModel)
        {
            return GatewayError.InvalidRequest($"The model '{model.Name}' is served through the Anthropic Messages API; call POST /v1/messages.");
        }

        if (endpoint.Operation == ApiOperation.Responses && model.Api == ProviderApi.AzureOpenAI)
        {
            return GatewayError.InvalidRequest($"The model '{model.Name}' is an Azure OpenAI deployment; the Responses API is not routed to Azure yet. Use /v1/chat/completions.");
        }

        return null;
    }
}
