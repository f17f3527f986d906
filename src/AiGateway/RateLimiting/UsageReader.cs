using System.Text.Json;
using AiGateway.Model;

namespace AiGateway.RateLimiting;

/// <summary>
/// Reads provider-reported token usage from a JSON answer or a streamed event, in every dialect:
/// OpenAI chat/embeddings (<c>prompt_tokens</c>, <c>completion_tokens</c>, <c>cached_tokens</c>, <c>reasoning_tokens</c>),
/// Responses (<c>input_tokens</c>, <c>output_tokens</c> with details), Anthropic (<c>input_tokens</c> excluding
/// <c>cache_read_input_tokens</c> and <c>cache_creation_input_tokens</c>; <c>output_tokens</c> cumulative in
/// <c>message_delta</c>). Later events override earlier values field by field.
/// </summary>
internal sealed class UsageReader
{
    private readonly bool _anthropic;
    private long? _input;
    private long? _output;
    private long? _cached;
    private long? _cacheCreation;
    private long? _reasoning;

    public UsageReader(bool anthropic) => _anthropic = anthropic;

    public bool HasUsage => _input is not null || _output is not null;

    /// <summary>The usage seen so far; Anthropic input tokens are made inclusive of cache reads and writes.</summary>
    public TokenUsage Usage
    {
        get
        {
            var cached = _cached ?? 0;
            var creation = _cacheCreation ?? 0;
            var prompt = _input ?? 0;
            if (_anthropic)
            {
                prompt += cached + creation;
            }

            return new TokenUsage(prompt, _output ?? 0, cached, creation, _reasoning ?? 0);
        }
    }

    /// <summary>Reads every <c>usage</c> object in <paramref name="json"/>. Returns true when one was found (non-null).</summary>
    public bool Read(ReadOnlySpan<byte> json)
    {
        if (json.IndexOf("usage"u8) < 0)
        {
            return false; // most streamed chunks carry no usage: skip the parse
        }

        var found = false;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadUsageObject(ref reader);
                        found = true;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Malformed data: no usage from it. The reservation then stands as the charge.
        }

        return found;
    }

    private void ReadUsageObject(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            ref long? target = ref _input;
            if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
            {
                target = ref _input;
            }
            else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
            {
                target = ref _output;
            }
            else if (reader.ValueTextEquals("cached_tokens"u8) || reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                target = ref _cached;
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                target = ref _cacheCreation;
            }
            else if (reader.ValueTextEquals("reasoning_tokens"u8))
            {
                target = ref _reasoning;
            }
            else
            {
                continue; // nested *_details objects are walked into by the loop
            }

            reader.Read();
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0)
            {
                target = value;
            }
        }
    }
}
