using System.Text.Json;

namespace AiGateway.Model;

/// <summary>
/// A refusal or failure the gateway itself answers, rendered in the caller's dialect:
/// OpenAI/Azure <c>{"error":{...}}</c> or Anthropic <c>{"type":"error","error":{...}}</c>.
/// Messages never carry prompt text, tokens or secrets.
/// </summary>
internal sealed record GatewayError(int StatusCode, string Code, string Message)
{
    // Error bodies are JSON for API clients, not HTML: keep quotes and apostrophes readable.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static GatewayError InvalidJson(string detail) =>
        new(StatusCodes.Status400BadRequest, "invalid_json", $"The request body is not valid JSON: {detail}");

    public static GatewayError InvalidRequest(string message) =>
        new(StatusCodes.Status400BadRequest, "invalid_request", message);

    public static GatewayError BodyTooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "request_too_large", $"The request body exceeds the gateway limit of {limit} bytes.");

    public static GatewayError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, "model_not_found", $"The model '{model}' does not exist or you do not have access to it.");

    public static GatewayError UnknownEndpoint(string method, string path) =>
        new(StatusCodes.Status404NotFound, "unknown_url", $"Unrecognized request URL ({method}: {path}).");

    public static GatewayError UpstreamUnreachable() =>
        new(StatusCodes.Status502BadGateway, "upstream_unreachable", "The model's upstream could not be reached or returned an invalid response.");

    public static GatewayError UpstreamTimeout() =>
        new(StatusCodes.Status504GatewayTimeout, "upstream_timeout", "The model's upstream did not answer in time.");

    public static GatewayError NoHealthyUpstream() =>
        new(StatusCodes.Status503ServiceUnavailable, "upstream_unavailable", "No upstream deployment of this model is available right now.");

    public static GatewayError Internal() =>
        new(StatusCodes.Status500InternalServerError, "internal_error", "The gateway failed to process the request.");

    public Task WriteAsync(HttpContext context, ApiDialect dialect)
    {
        var response = context.Response;
        response.StatusCode = StatusCode;
        response.ContentType = "application/json";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            if (dialect == ApiDialect.Anthropic)
            {
                writer.WriteStartObject();
                writer.WriteString("type", "error");
                writer.WriteStartObject("error");
                writer.WriteString("type", AnthropicType(StatusCode));
                writer.WriteString("message", Message);
                writer.WriteString("code", Code);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteStartObject("error");
                writer.WriteString("message", Message);
                writer.WriteString("type", OpenAIType(StatusCode));
                writer.WriteNull("param");
                writer.WriteString("code", Code);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
        }

        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }

    private static string OpenAIType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "invalid_request_error",
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private static string AnthropicType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };
}
