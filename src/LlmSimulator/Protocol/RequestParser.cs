using System.Buffers;
using System.Text;
using System.Text.Json;

namespace LlmSimulator.Protocol;

/// <summary>
/// Reads the handful of fields the simulator needs in one forward pass. Only the prompt-bearing
/// fields are walked value by value; everything else is skipped without materialising it.
/// </summary>
internal static class RequestParser
{
    private const int StackCharLimit = 256;

    public static bool TryParse(ReadOnlySpan<byte> json, Operation operation, SimulatedRequest request, out string? error)
    {
        error = null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "The request body must be a JSON object.";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        request.Model = reader.GetString();
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        error = "'model' must be a string.";
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    request.Stream = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    ReadStreamOptions(ref reader, request);
                }
                else if (reader.ValueTextEquals("dimensions"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var dimensions) || dimensions < 1 || dimensions > 16384)
                    {
                        error = "'dimensions' must be an integer between 1 and 16384.";
                        return false;
                    }

                    request.Dimensions = dimensions;
                }
                else if (reader.ValueTextEquals("simulator"u8))
                {
                    if (!TryReadDirectives(ref reader, request, out error))
                    {
                        return false;
                    }
                }
                else if (!TryReadPromptField(ref reader, operation, request))
                {
                    reader.Skip();
                }
            }

            // Rejects trailing content after the top-level object.
            if (reader.Read())
            {
                error = "Unexpected content after the JSON object.";
                return false;
            }

            return true;
        }
        catch (JsonException ex)
        {
            error = "Malformed JSON: " + ex.Message;
            return false;
        }
    }

    private static bool TryReadPromptField(ref Utf8JsonReader reader, Operation operation, SimulatedRequest request)
    {
        switch (operation)
        {
            case Operation.ChatCompletions or Operation.Messages when reader.ValueTextEquals("messages"u8):
                reader.Read();
                ReadMessages(ref reader, request);
                return true;
            case Operation.Messages when reader.ValueTextEquals("system"u8):
            case Operation.Responses when reader.ValueTextEquals("instructions"u8):
                reader.Read();
                request.PromptChars += CountStrings(ref reader);
                return true;
            case Operation.Responses when reader.ValueTextEquals("input"u8):
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    request.MessageCount = 1;
                    request.PromptChars += CharCount(ref reader);
                    request.LastUserWords = FirstWords(ref reader);
                }
                else
                {
                    ReadMessages(ref reader, request);
                }

                return true;
            case Operation.Embeddings when reader.ValueTextEquals("input"u8):
                reader.Read();
                ReadEmbeddingInputs(ref reader, request);
                return true;
            default:
                return false;
        }
    }

    private static void ReadStreamOptions(ref Utf8JsonReader reader, SimulatedRequest request)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("include_usage"u8))
            {
                reader.Read();
                request.IncludeUsage = reader.TokenType == JsonTokenType.True;
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static bool TryReadDirectives(ref Utf8JsonReader reader, SimulatedRequest request, out string? error)
    {
        error = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = "'simulator' must be an object.";
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("reply"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    error = "'simulator.reply' must be a string.";
                    return false;
                }

                request.Reply = reader.GetString();
            }
            else if (reader.ValueTextEquals("fault"u8))
            {
                reader.Read();
                var fault = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                if (fault is null || !Directives.TryParseFault(fault, out var parsed))
                {
                    error = $"Unknown 'simulator.fault' '{fault}'; expected reset, reset_mid_stream or garbage_sse.";
                    return false;
                }

                request.Fault = parsed;
            }
            else if (reader.ValueTextEquals("chunks"u8))
            {
                if (!TryReadCount(ref reader, "chunks", out var value, out error))
                {
                    return false;
                }

                request.Chunks = value;
            }
            else if (reader.ValueTextEquals("chunk_delay_ms"u8))
            {
                if (!TryReadCount(ref reader, "chunk_delay_ms", out var value, out error))
                {
                    return false;
                }

                request.ChunkDelayMs = value;
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                if (!TryReadCount(ref reader, "status", out var value, out error))
                {
                    return false;
                }

                request.Status = value;
            }
            else if (reader.ValueTextEquals("retry_after"u8))
            {
                if (!TryReadCount(ref reader, "retry_after", out var value, out error))
                {
                    return false;
                }

                request.RetryAfterSeconds = value;
            }
            else if (reader.ValueTextEquals("delay_ms"u8))
            {
                if (!TryReadCount(ref reader, "delay_ms", out var value, out error))
                {
                    return false;
                }

                request.DelayMs = value;
            }
            else if (reader.ValueTextEquals("cached_tokens"u8))
            {
                if (!TryReadCount(ref reader, "cached_tokens", out var value, out error))
                {
                    return false;
                }

                request.CachedTokens = value;
            }
            else if (reader.ValueTextEquals("reasoning_tokens"u8))
            {
                if (!TryReadCount(ref reader, "reasoning_tokens", out var value, out error))
                {
                    return false;
                }

                request.ReasoningTokens = value;
            }
            else
            {
                // Unknown directives are an error so a typo in a test fails loudly instead of being ignored.
                error = $"Unknown simulator directive '{reader.GetString()}'.";
                return false;
            }
        }

        return true;
    }

    private static bool TryReadCount(ref Utf8JsonReader reader, string name, out int value, out string? error)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out value) && value >= 0)
        {
            error = null;
            return true;
        }

        value = 0;
        error = $"'simulator.{name}' must be a non-negative integer.";
        return false;
    }

    /// <summary>Reader is on the value of "messages" (or a Responses "input" array).</summary>
    private static void ReadMessages(ref Utf8JsonReader reader, SimulatedRequest request)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            request.PromptChars += CountStrings(ref reader);
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            request.MessageCount++;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                ReadMessage(ref reader, request);
            }
            else
            {
                request.PromptChars += CountStrings(ref reader);
            }
        }
    }

    private static void ReadMessage(ref Utf8JsonReader reader, SimulatedRequest request)
    {
        var isUser = false;
        string? words = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("role"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    isUser = reader.ValueTextEquals("user"u8);
                }

                request.PromptChars += CountStrings(ref reader);
            }
            else if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    request.PromptChars += CharCount(ref reader);
                    words = FirstWords(ref reader);
                }
                else if (reader.TokenType == JsonTokenType.StartArray)
                {
                    words = ReadContentParts(ref reader, request);
                }
                else
                {
                    request.PromptChars += CountStrings(ref reader);
                }
            }
            else
            {
                reader.Read();
                request.PromptChars += CountStrings(ref reader);
            }
        }

        if (isUser)
        {
            request.LastUserWords = words ?? string.Empty;
        }
    }

    /// <summary>Content parts: counts every string, returns the first words of the first "text" part.</summary>
    private static string? ReadContentParts(ref Utf8JsonReader reader, SimulatedRequest request)
    {
        string? words = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                request.PromptChars += CountStrings(ref reader);
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isText = reader.ValueTextEquals("text"u8);
                reader.Read();
                if (isText && reader.TokenType == JsonTokenType.String)
                {
                    request.PromptChars += CharCount(ref reader);
                    words ??= FirstWords(ref reader);
                }
                else
                {
                    request.PromptChars += CountStrings(ref reader);
                }
            }
        }

        return words;
    }

    private static void ReadEmbeddingInputs(ref Utf8JsonReader reader, SimulatedRequest request)
    {
        var seeds = request.EmbeddingSeeds = [];
        if (reader.TokenType == JsonTokenType.String)
        {
            seeds.Add(HashString(ref reader, request));
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        var tokenArray = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    seeds.Add(HashString(ref reader, request));
                    break;
                case JsonTokenType.Number:
                    // An array of token ids is one input, not one input per token.
                    tokenArray = true;
                    break;
                default:
                    seeds.Add(HashRaw(ref reader));
                    break;
            }
        }

        if (tokenArray)
        {
            seeds.Add(0x5EED);
        }
    }

    /// <summary>Sums the UTF-16 length of every string value (not property names) in the current value.</summary>
    private static long CountStrings(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return CharCount(ref reader);
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                var depth = reader.CurrentDepth;
                long total = 0;
                while (reader.Read() && reader.CurrentDepth > depth)
                {
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        total += CharCount(ref reader);
                    }
                }

                return total;
            default:
                return 0;
        }
    }

    private static int CharCount(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return Encoding.UTF8.GetCharCount(reader.ValueSpan);
        }

        // Unescaped text is never longer in UTF-16 chars than its escaped UTF-8 bytes.
        var length = reader.ValueSpan.Length;
        char[]? rented = null;
        var buffer = length <= StackCharLimit ? stackalloc char[StackCharLimit] : (rented = ArrayPool<char>.Shared.Rent(length));
        var count = reader.CopyString(buffer);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return count;
    }

    private static string FirstWords(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            // Fast path: cut the UTF-8 bytes after the third word and decode only that prefix.
            var span = reader.ValueSpan;
            var end = ReplyText.EndOfFirstWords(span, 3, out var start);
            return Encoding.UTF8.GetString(span[start..end]);
        }

        var text = reader.GetString() ?? string.Empty;
        var charEnd = ReplyText.EndOfFirstWords(text, 3, out var charStart);
        return text[charStart..charEnd];
    }

    private static ulong HashString(ref Utf8JsonReader reader, SimulatedRequest request)
    {
        var length = reader.ValueSpan.Length;
        char[]? rented = null;
        var buffer = length <= StackCharLimit ? stackalloc char[StackCharLimit] : (rented = ArrayPool<char>.Shared.Rent(length));
        var count = reader.CopyString(buffer);
        request.PromptChars += count;
        var hash = Fnv1a(buffer[..count]);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return hash;
    }

    private static ulong HashRaw(ref Utf8JsonReader reader)
    {
        var start = reader.TokenStartIndex;
        reader.Skip();
        return (ulong)(reader.BytesConsumed - start) * 0x9E3779B97F4A7C15UL;
    }

    private static ulong Fnv1a(ReadOnlySpan<char> text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
