using AiGateway.Model;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway.Forwarding;

/// <summary>
/// Runs when upstream response headers arrive: records time to first byte, keeps the body of a failed attempt
/// from reaching the client while another deployment can still be tried, and drops upstream headers that
/// describe the provider account rather than the answer.
/// </summary>
internal static class UpstreamResponseTransform
{
    private static readonly string[] s_droppedHeaders = ["Set-Cookie", "openai-organization", "openai-project", "anthropic-organization-id"];

    public static ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var feature = context.HttpContext.GetGatewayFeature();
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (feature.UpstreamStartTimestamp == 0)
        {
            feature.UpstreamStartTimestamp = now;
        }

        if (feature.UpstreamSendTimestamp != 0)
        {
            feature.UpstreamWaitTicks += now - feature.UpstreamSendTimestamp;
            feature.UpstreamSendTimestamp = now; // a buffered answer adds its body time from here (AnswerInspectionStream)
        }

        var status = (int?)context.ProxyResponse?.StatusCode;
        if (feature.CanRetry && status is 429 or >= 500)
        {
            context.SuppressResponseBody = true;
        }

        var headers = context.HttpContext.Response.Headers;
        foreach (var name in s_droppedHeaders)
        {
            headers.Remove(name);
        }

        return ValueTask.CompletedTask;
    }
}
