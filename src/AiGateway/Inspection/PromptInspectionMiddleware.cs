using AiGateway.Markings;
using AiGateway.Model;

namespace AiGateway.Inspection;

/// <summary>
/// Stage 5: scans every text segment of the prompt for classification and CUI markings. Above the effective
/// ceiling (the lower of the model's and the caller's clearance) the agency's action applies: block → 403
/// <c>classified_content_blocked</c> naming the level, marking kinds and message (never the text), flag →
/// forwarded and recorded.
/// </summary>
internal sealed class PromptInspectionMiddleware
{
    private readonly RequestDelegate _next;
    private readonly MarkingScanner _scanner;

    public PromptInspectionMiddleware(RequestDelegate next, MarkingScanner scanner)
    {
        _next = next;
        _scanner = scanner;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var request = feature.Request!;
        var agency = feature.Config.Agencies[feature.Caller!.Agency];
        var ceiling = EffectiveCeiling(feature.Model!.Ceiling, feature.Caller.Clearance);

        var texts = new string[request.Segments.Count];
        for (var i = 0; i < texts.Length; i++)
        {
            texts[i] = request.Segments[i].Text;
        }

        var outcome = InspectionOutcome.Decide(_scanner.Scan(texts), ceiling, agency.Inspection);
        feature.PromptInspection = outcome;
        if (outcome.Decision != MarkingDecision.Blocked)
        {
            return _next(context);
        }

        return context.RejectAsync(new GatewayError(
            StatusCodes.Status403Forbidden,
            "classified_content_blocked",
            $"The request was blocked: it carries {InspectionOutcome.LevelName(outcome.HighestLevel!.Value)} markings ({outcome.KindsAboveCeiling()}) in {Where(request, outcome)}, " +
            $"and '{feature.Model.Name}' may receive at most {InspectionOutcome.LevelName(ceiling)} here. Nothing was sent to the model."));
    }

    internal static MarkingLevel EffectiveCeiling(MarkingLevel model, MarkingLevel? clearance) =>
        clearance is { } c && c < model ? c : model;

    /// <summary>"message 2 (user)", "the system prompt" or "the tool definitions" for the first finding above the ceiling.</summary>
    private static string Where(LlmRequest request, InspectionOutcome outcome)
    {
        foreach (var finding in outcome.Findings)
        {
            if (finding.Level <= outcome.EffectiveCeiling || finding.Segment >= request.Segments.Count)
            {
                continue;
            }

            var segment = request.Segments[finding.Segment];
            return segment.Source switch
            {
                SegmentSource.System => "the system prompt",
                SegmentSource.Tool => "the tool definitions",
                SegmentSource.Message => segment.Role is null ? $"message {segment.MessageIndex + 1}" : $"message {segment.MessageIndex + 1} ({segment.Role})",
                _ => "a request field",
            };
        }

        return "the request";
    }
}
