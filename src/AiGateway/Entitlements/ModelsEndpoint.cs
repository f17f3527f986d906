using System.Text.Json;
using AiGateway.Model;

namespace AiGateway.Entitlements;

/// <summary><c>GET /v1/models</c>: the models the caller may use, in the OpenAI list shape.</summary>
internal static class ModelsEndpoint
{
    public static async Task HandleAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var caller = feature.Caller!;
        var config = feature.Config;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        if (config.Agencies.TryGetValue(caller.Agency, out var agency))
        {
            foreach (var model in config.Models)
            {
                if (Entitlement.GrantingRole(caller, agency, model) is null)
                {
                    continue;
                }

                writer.WriteStartObject();
                writer.WriteString("id", model.Name);
                writer.WriteString("object", "model");
                writer.WriteNumber("created", 0);
                writer.WriteString("owned_by", agency.Name);
                writer.WriteString("ceiling", CeilingName(model.Ceiling));
                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    internal static string CeilingName(Markings.MarkingLevel level) => level switch
    {
        Markings.MarkingLevel.Unclassified => "UNCLASSIFIED",
        Markings.MarkingLevel.Cui => "CUI",
        Markings.MarkingLevel.Confidential => "CONFIDENTIAL",
        Markings.MarkingLevel.Secret => "SECRET",
        _ => "TOP SECRET",
    };
}
