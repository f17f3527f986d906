using System.Text.Json;

namespace LlmSimulator.Protocol;

/// <summary>GET /v1/models: a fixed list, encoded once because it never changes.</summary>
internal static class ModelList
{
    private static readonly string[] Models =
    [
        "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o4-mini",
        "text-embedding-3-small", "text-embedding-3-large",
        "claude-sonnet-4-5", "claude-haiku-4-5",
    ];

    public static void WriteBody(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("object"u8, "list"u8);
        json.WriteStartArray("data"u8);
        foreach (var model in Models)
        {
            json.WriteStartObject();
            json.WriteString("id"u8, model);
            json.WriteString("object"u8, "model"u8);
            json.WriteNumber("created"u8, 1700000000);
            json.WriteString("owned_by"u8, "simulator"u8);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
