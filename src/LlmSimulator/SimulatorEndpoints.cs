using LlmSimulator.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LlmSimulator;

/// <summary>Maps the simulated OpenAI, Azure OpenAI and Anthropic endpoints onto any ASP.NET Core host.</summary>
public static class SimulatorEndpoints
{
    /// <summary>
    /// Maps the simulator endpoints. Requests are not recorded on this path (nothing could read them
    /// back); use <see cref="SimulatorServer"/> when a test needs <see cref="SimulatorServer.ReceivedRequests"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapLlmSimulator(this IEndpointRouteBuilder endpoints, SimulatorOptions options, FaultPlan? faults = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return endpoints.MapLlmSimulator(new SimulatorState(options, faults ?? new FaultPlan(), recorder: null));
    }

    internal static IEndpointRouteBuilder MapLlmSimulator(this IEndpointRouteBuilder endpoints, SimulatorState state)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var pipeline = new SimulatorPipeline(state);

        // Plain RequestDelegates: no parameter binding, no filters, nothing between Kestrel and the handler.
        endpoints.MapPost("/v1/chat/completions", context => pipeline.HandleAsync(context, Operation.ChatCompletions, Dialect.OpenAi));
        endpoints.MapPost("/v1/responses", context => pipeline.HandleAsync(context, Operation.Responses, Dialect.OpenAi));
        endpoints.MapPost("/v1/embeddings", context => pipeline.HandleAsync(context, Operation.Embeddings, Dialect.OpenAi));
        endpoints.MapGet("/v1/models", context => pipeline.HandleAsync(context, Operation.Models, Dialect.OpenAi));
        endpoints.MapPost("/v1/messages", context => pipeline.HandleAsync(context, Operation.Messages, Dialect.Anthropic));
        endpoints.MapPost("/openai/deployments/{deployment}/chat/completions", context => pipeline.HandleAsync(context, Operation.ChatCompletions, Dialect.Azure));
        endpoints.MapPost("/openai/deployments/{deployment}/embeddings", context => pipeline.HandleAsync(context, Operation.Embeddings, Dialect.Azure));

        // Health is outside the pipeline: never recorded, never faulted, so readiness probes stay truthful.
        endpoints.MapGet("/health", context =>
        {
            context.Response.Headers[SimulatorPipeline.NameHeader] = state.Options.Name;
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("ok", context.RequestAborted);
        });
        return endpoints;
    }
}
