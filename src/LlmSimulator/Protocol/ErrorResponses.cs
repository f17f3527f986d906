using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace LlmSimulator.Protocol;

/// <summary>Error bodies in each vendor's shape, so gateway retry and error mapping see what production sends.</summary>
internal static class ErrorResponses
{
    public static ValueTask<FlushResult> SendAsync(
        HttpContext context,
        Dialect dialect,
        int statusCode,
        string message,
        int? retryAfterSeconds,
        CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        if (retryAfterSeconds is { } retryAfter)
        {
            response.Headers[HeaderNames.RetryAfter] = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        var json = JsonOutput.Begin();
        json.WriteStartObject();
        if (dialect == Dialect.Anthropic)
        {
            json.WriteString("type"u8, "error"u8);
            json.WriteStartObject("error"u8);
            json.WriteString("type"u8, AnthropicType(statusCode));
            json.WriteString("message"u8, message);
            json.WriteEndObject();
        }
        else
        {
            var (type, code) = OpenAiTypeAndCode(statusCode);
            json.WriteStartObject("error"u8);
            json.WriteString("message"u8, message);
            json.WriteString("type"u8, type);
            json.WriteNull("param"u8);
            json.WriteString("code"u8, code);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        return JsonOutput.SendAsync(response, json, "application/json", cancellationToken);
    }

    public static string DefaultMessage(int statusCode) => statusCode switch
    {
        401 => "Incorrect API key provided (simulated).",
        429 => "Rate limit reached (simulated).",
        >= 500 => "The server had an error while processing your request (simulated).",
        _ => string.Create(CultureInfo.InvariantCulture, $"Simulated error {statusCode}."),
    };

    private static (string Type, string Code) OpenAiTypeAndCode(int statusCode) => statusCode switch
    {
        401 => ("invalid_request_error", "invalid_api_key"),
        403 => ("invalid_request_error", "permission_denied"),
        404 => ("invalid_request_error", "not_found"),
        408 => ("timeout", "timeout"),
        429 => ("requests", "rate_limit_exceeded"),
        >= 500 => ("server_error", "server_error"),
        _ => ("invalid_request_error", "invalid_request"),
    };

    private static string AnthropicType(int statusCode) => statusCode switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };
}
