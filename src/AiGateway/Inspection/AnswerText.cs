using System.Text;
using System.Text.Json;

namespace AiGateway.Inspection;

/// <summary>
/// Pulls the text a model produced out of an answer body or one streamed event (OpenAI chat, Responses,
/// Anthropic): every string value except identifiers and metadata, so text in any field is inspected.
/// Data that is not valid JSON is inspected as raw text, so malformed events cannot smuggle markings past.
/// </summary>
internal static class AnswerText
{
    public static void Collect(ReadOnlySpan<byte> json, List<string> into)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        var start = into.Count;
        try
        {
            var skipNext = false;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        if (IsSkippedSubtree(ref reader))
                        {
                            reader.Read();
                            reader.Skip();
                            skipNext = false;
                        }
                        else
                        {
                            skipNext = IsMetadata(ref reader);
                        }

                        break;
                    case JsonTokenType.String:
                        if (!skipNext)
                        {
                            into.Add(reader.GetString()!);
                        }

                        skipNext = false;
                        break;
                    case JsonTokenType.StartArray or JsonTokenType.EndArray:
                        break;
                    default:
                        skipNext = false;
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            into.RemoveRange(start, into.Count - start);
            into.Add(Encoding.UTF8.GetString(json));
        }
    }

    /// <summary>Token-level duplicates of the answer and accounting: not scanned.</summary>
    private static bool IsSkippedSubtree(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("logprobs"u8) || reader.ValueTextEquals("usage"u8);

    private static bool IsMetadata(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("id"u8)
        || reader.ValueTextEquals("object"u8)
        || reader.ValueTextEquals("model"u8)
        || reader.ValueTextEquals("role"u8)
        || reader.ValueTextEquals("type"u8)
        || reader.ValueTextEquals("system_fingerprint"u8)
        || reader.ValueTextEquals("service_tier"u8)
        || reader.ValueTextEquals("finish_reason"u8)
        || reader.ValueTextEquals("stop_reason"u8)
        || reader.ValueTextEquals("status"u8)
        || reader.ValueTextEquals("call_id"u8)
        || reader.ValueTextEquals("tool_call_id"u8)
        || reader.ValueTextEquals("item_id"u8)
        || reader.ValueTextEquals("event"u8);
}
