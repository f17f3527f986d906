using System.Text.Json;

namespace AiGateway.Scim;

/// <summary>A SCIM error response (RFC 7644 §3.12): <c>status</c> is a string, <c>scimType</c> names the kind of 400/409.</summary>
internal sealed class ScimException(int status, string? scimType, string detail) : Exception(detail)
{
    public const string ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

    public int Status { get; } = status;

    public string? ScimType { get; } = scimType;

    public static ScimException InvalidSyntax(string detail) => new(400, "invalidSyntax", detail);

    public static ScimException InvalidValue(string detail) => new(400, "invalidValue", detail);

    public static ScimException InvalidPath(string detail) => new(400, "invalidPath", detail);

    public static ScimException InvalidFilter(string detail) => new(400, "invalidFilter", detail);

    public static ScimException NoTarget(string detail) => new(400, "noTarget", detail);

    public static ScimException Mutability(string detail) => new(400, "mutability", detail);

    public static ScimException Uniqueness(string detail) => new(409, "uniqueness", detail);

    public static ScimException NotFound(string detail) => new(404, null, detail);

    public static ScimException PreconditionFailed() => new(412, "invalidVers", "The resource has changed since the version given in If-Match.");

    public Task WriteAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = Status;
        response.ContentType = ScimEndpoints.ContentType;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("schemas");
            writer.WriteStringValue(ErrorSchema);
            writer.WriteEndArray();
            if (ScimType is not null)
            {
                writer.WriteString("scimType", ScimType);
            }

            writer.WriteString("detail", Message);
            writer.WriteString("status", Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }

        response.ContentLength = buffer.Length;
        return response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted).AsTask();
    }
}
