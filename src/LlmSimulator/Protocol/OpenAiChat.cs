using System.Text.Json;

namespace LlmSimulator.Protocol;

/// <summary>OpenAI (and Azure OpenAI) chat completion bodies and chunks.</summary>
internal static class OpenAiChat
{
    public static void WriteBody(Utf8JsonWriter json, Completion completion)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, completion.Id);
        json.WriteString("object"u8, "chat.completion"u8);
        json.WriteNumber("created"u8, completion.Created);
        json.WriteString("model"u8, completion.Model);
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("content"u8, completion.Reply);
        json.WriteNull("refusal"u8);
        json.WriteEndObject();
        json.WriteNull("logprobs"u8);
        json.WriteString("finish_reason"u8, "stop"u8);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, completion);
        json.WriteEndObject();
    }

    public static void WriteDelta(SseWriter sse, Completion completion, ReadOnlySpan<char> text, bool first)
    {
        var json = BeginChunk(sse, completion);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("delta"u8);
        if (first)
        {
            json.WriteString("role"u8, "assistant"u8);
        }

        json.WriteString("content"u8, text);
        json.WriteEndObject();
        json.WriteNull("finish_reason"u8);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        sse.EndEvent();
    }

    public static void WriteEnd(SseWriter sse, Completion completion, bool includeUsage)
    {
        var json = BeginChunk(sse, completion);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("delta"u8);
        json.WriteEndObject();
        json.WriteString("finish_reason"u8, "stop"u8);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        sse.EndEvent();

        if (includeUsage)
        {
            json = BeginChunk(sse, completion);
            json.WriteEndArray();
            WriteUsage(json, completion);
            json.WriteEndObject();
            sse.EndEvent();
        }

        sse.WriteRaw("data: [DONE]\n\n"u8);
    }

    /// <summary>Writes the chunk envelope up to and including the opening of "choices".</summary>
    private static Utf8JsonWriter BeginChunk(SseWriter sse, Completion completion)
    {
        var json = sse.BeginEvent(default);
        json.WriteStartObject();
        json.WriteString("id"u8, completion.Id);
        json.WriteString("object"u8, "chat.completion.chunk"u8);
        json.WriteNumber("created"u8, completion.Created);
        json.WriteString("model"u8, completion.Model);
        json.WriteStartArray("choices"u8);
        return json;
    }

    private static void WriteUsage(Utf8JsonWriter json, Completion completion)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, completion.PromptTokens);
        json.WriteNumber("completion_tokens"u8, completion.CompletionTokens);
        json.WriteNumber("total_tokens"u8, completion.TotalTokens);
        json.WriteStartObject("prompt_tokens_details"u8);
        json.WriteNumber("cached_tokens"u8, completion.CachedTokens);
        json.WriteEndObject();
        json.WriteStartObject("completion_tokens_details"u8);
        json.WriteNumber("reasoning_tokens"u8, completion.ReasoningTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
