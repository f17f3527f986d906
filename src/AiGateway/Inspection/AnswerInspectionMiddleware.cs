using AiGateway.Markings;
using AiGateway.Model;

namespace AiGateway.Inspection;

/// <summary>Stage 8: inspects and accounts the model's answer through an <see cref="AnswerInspectionStream"/>.</summary>
internal sealed class AnswerInspectionMiddleware
{
    private readonly RequestDelegate _next;
    private readonly MarkingScanner _scanner;

    public AnswerInspectionMiddleware(RequestDelegate next, MarkingScanner scanner)
    {
        _next = next;
        _scanner = scanner;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var policy = feature.Config.Agencies[feature.Caller!.Agency].Inspection;
        var request = feature.Request!;
        var dropUsageEvents = request.Stream && !request.StreamIncludeUsage && request.Endpoint.Operation == ApiOperation.ChatCompletions;
        var original = context.Response.Body;
        var ceiling = PromptInspectionMiddleware.EffectiveCeiling(feature.Model!.Ceiling, feature.Caller.Clearance);
        var inspector = new AnswerInspectionStream(context, original, _scanner, ceiling, policy, feature.Endpoint.Dialect, feature.Model.Name, dropUsageEvents);
        context.Response.Body = inspector;
        try
        {
            await _next(context);
            if (!context.RequestAborted.IsCancellationRequested)
            {
                await inspector.CompleteAsync(feature, context.RequestAborted);
            }
        }
        finally
        {
            context.Response.Body = original;
        }
    }
}
