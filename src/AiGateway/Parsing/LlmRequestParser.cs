using System.Text.Json;
using AiGateway.Model;

namespace AiGateway.Parsing;

/// <summary>
/// Reads an LLM API body once with <see cref="Utf8JsonReader"/> into an <see cref="LlmRequest"/>.
/// Every string value the model could read is kept as a segment, whatever field it hides in;
/// only values of known identifier fields (role, type, ids) are left out.
/// </summary>
internal static class LlmRequestParser
{
    private static readonly JsonReaderOptions s_options = new()
    {
        MaxDepth = 64,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>Parses <paramref name="body"/>; on failure returns null and a 400 error in <paramref name="error"/>.</summary>
    public static LlmRequest? Parse(ReadOnlySpan<byte> body, ApiEndpoint endpoint, out GatewayError? error)
    {
        // The reader only validates the strings it decodes; property names and skipped identifier values would
        // pass invalid UTF-8 upstream unchecked. One vectorised pass over the whole body closes that.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            error = GatewayError.InvalidJson("the body contains invalid UTF-8");
            return null;
        }

        try
        {
            return ParseCore(body, endpoint, out error);
        }
        catch (JsonException ex)
        {
            // The reader's message names the position, never the content.
            error = GatewayError.InvalidJson($"line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}");
            return null;
        }
        catch (InvalidOperationException)
        {
            // Invalid UTF-8 or a string that cannot be transcoded.
            error = GatewayError.InvalidJson("the body contains invalid UTF-8 or an unreadable string");
            return null;
        }
    }

    private static LlmRequest? ParseCore(ReadOnlySpan<byte> body, ApiEndpoint endpoint, out GatewayError? error)
    {
        var reader = new Utf8JsonReader(body, isFinalBlock: true, new JsonReaderState(s_options));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            error = GatewayError.InvalidRequest("The request body must be a JSON object.");
            return null;
        }

        string? model = null;
        Range modelRange = default;
        var stream = false;
        var includeUsage = false;
        Range streamOptionsRange = default;
        int? maxTokens = null;
        var segments = new List<TextSegment>();

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    error = GatewayError.InvalidRequest("'model' must be a string.");
                    return null;
                }

                var start = (int)reader.TokenStartIndex;
                model = reader.GetString();
                modelRange = new Range(start, (int)reader.BytesConsumed);
            }
            else if (reader.ValueTextEquals("stream"u8))
            {
                reader.Read();
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                {
                    error = GatewayError.InvalidRequest("'stream' must be a boolean.");
                    return null;
                }

                stream = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("stream_options"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                includeUsage = ReadIncludeUsage(ref reader);
                streamOptionsRange = new Range(start, (int)reader.BytesConsumed);
            }
            else if (reader.ValueTextEquals("max_tokens"u8) || reader.ValueTextEquals("max_completion_tokens"u8) || reader.ValueTextEquals("max_output_tokens"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value) || value < 0)
                {
                    error = GatewayError.InvalidRequest("'max_tokens' must be a non-negative integer.");
                    return null;
                }

                maxTokens = value;
            }
            else if (reader.ValueTextEquals("messages"u8) || reader.ValueTextEquals("input"u8))
            {
                reader.Read();
                CollectMessages(ref reader, segments);
            }
            else if (reader.ValueTextEquals("system"u8) || reader.ValueTextEquals("instructions"u8))
            {
                reader.Read();
                CollectStrings(ref reader, segments, SegmentSource.System, -1, "system");
            }
            else if (reader.ValueTextEquals("tools"u8) || reader.ValueTextEquals("functions"u8) || reader.ValueTextEquals("response_format"u8) || reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                CollectStrings(ref reader, segments, SegmentSource.Tool, -1, null);
            }
            else
            {
                reader.Read();
                CollectStrings(ref reader, segments, SegmentSource.Other, -1, null);
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            error = GatewayError.InvalidJson("unexpected token");
            return null;
        }

        // Anything after the object (a second document, garbage) is malformed.
        if (reader.Read())
        {
            error = GatewayError.InvalidJson("data after the JSON object");
            return null;
        }

        if (endpoint.Dialect == ApiDialect.AzureOpenAI)
        {
            model = endpoint.AzureDeployment;
        }

        if (string.IsNullOrWhiteSpace(model))
        {
            error = GatewayError.InvalidRequest("'model' is required.");
            return null;
        }

        var textLength = 0;
        foreach (var segment in segments)
        {
            textLength += segment.Text.Length;
        }

        error = null;
        return new LlmRequest
        {
            Endpoint = endpoint,
            Model = model,
            ModelValueRange = modelRange,
            Stream = stream,
            StreamIncludeUsage = includeUsage,
            StreamOptionsRange = streamOptionsRange,
            MaxOutputTokens = maxTokens,
            Segments = segments,
            TextLength = textLength,
        };
    }

    private static bool ReadIncludeUsage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        var include = false;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("include_usage"u8))
            {
                reader.Read();
                include = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }

        return include;
    }

    /// <summary><c>messages</c>/<c>input</c>: a string, or an array of messages (objects) or strings.</summary>
    private static void CollectMessages(ref Utf8JsonReader reader, List<TextSegment> segments)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            CollectStrings(ref reader, segments, SegmentSource.Message, 0, "user");
            return;
        }

        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                // The role may come after the content in JSON order: collect, then stamp the role.
                var first = segments.Count;
                var role = CollectObject(ref reader, segments, SegmentSource.Message, index);
                if (role is not null)
                {
                    for (var i = first; i < segments.Count; i++)
                    {
                        segments[i] = segments[i] with { Role = role };
                    }
                }
            }
            else
            {
                CollectStrings(ref reader, segments, SegmentSource.Message, index, "user");
            }

            index++;
        }
    }

    /// <summary>Collects every string of a message object; returns the object's own <c>role</c>.</summary>
    private static string? CollectObject(ref Utf8JsonReader reader, List<TextSegment> segments, SegmentSource source, int index)
    {
        string? role = null;
        var depth = reader.CurrentDepth;
        var skipNext = false;
        var isRole = false;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.EndObject when reader.CurrentDepth == depth:
                    return role;
                case JsonTokenType.PropertyName:
                    isRole = reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("role"u8);
                    skipNext = isRole || IsIdentifierProperty(ref reader);
                    break;
                case JsonTokenType.String:
                    if (isRole)
                    {
                        role = reader.GetString();
                    }
                    else if (!skipNext)
                    {
                        segments.Add(new TextSegment(source, index, null, reader.GetString()!));
                    }

                    isRole = false;
                    skipNext = false;
                    break;
                default:
                    // Arrays of strings keep their property's skip decision; anything else resets it.
                    if (reader.TokenType is not (JsonTokenType.StartArray or JsonTokenType.EndArray))
                    {
                        isRole = false;
                        skipNext = false;
                    }

                    break;
            }
        }

        return role;
    }

    /// <summary>Collects every string value in the current value's subtree.</summary>
    private static void CollectStrings(ref Utf8JsonReader reader, List<TextSegment> segments, SegmentSource source, int index, string? role)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                segments.Add(new TextSegment(source, index, role, reader.GetString()!));
                return;
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                break;
            default:
                return;
        }

        var depth = reader.CurrentDepth;
        var skipNext = false;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    skipNext = IsIdentifierProperty(ref reader);
                    break;
                case JsonTokenType.String:
                    if (!skipNext)
                    {
                        segments.Add(new TextSegment(source, index, role, reader.GetString()!));
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

    /// <summary>Fields whose values are identifiers or enumerations, never text a model reads as prose.</summary>
    private static bool IsIdentifierProperty(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("type"u8)
        || reader.ValueTextEquals("role"u8)
        || reader.ValueTextEquals("id"u8)
        || reader.ValueTextEquals("tool_call_id"u8)
        || reader.ValueTextEquals("tool_use_id"u8)
        || reader.ValueTextEquals("call_id"u8)
        || reader.ValueTextEquals("media_type"u8)
        || reader.ValueTextEquals("detail"u8)
        || reader.ValueTextEquals("status"u8)
        || reader.ValueTextEquals("object"u8);
}
