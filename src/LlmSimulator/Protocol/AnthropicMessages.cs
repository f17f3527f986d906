using System.Text.Json;

namespace LlmSimulator.Protocol;

/// <summary>
/// Anthropic Messages bodies and events. Anthropic's input_tokens excludes cache reads, so
/// input_tokens + cache_read_input_tokens equals the rule's prompt tokens.
/// </summary>
internal static class AnthropicMessages
{
    public static void WriteBody(Utf8JsonWriter json, Completion completion)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, completion.Id);
        json.WriteString("type"u8, "message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("model"u8, completion.Model);
        json.WriteStartArray("content"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "text"u8);
        json.WriteString("text"u8, completion.Reply);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteString("stop_reason"u8, "end_turn"u8);
        json.WriteNull("stop_sequence"u8);
        WriteUsage(json, completion, completion.CompletionTokens);
        json.WriteEndObject();
    }

    public static void WriteStart(SseWriter sse, Completion completion)
    {
        var json = sse.BeginEvent("message_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_start"u8);
        json.WriteStartObject("message"u8);
        json.WriteString("id"u8, completion.Id);
        json.WriteString("type"u8, "message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("model"u8, completion.Model);
        json.WriteStartArray("content"u8);
        json.WriteEndArray();
        json.WriteNull("stop_reason"u8);
        json.WriteNull("stop_sequence"u8);
        WriteUsage(json, completion, outputTokens: 1);
        json.WriteEndObject();
        json.WriteEndObject();
        sse.EndEvent();

        json = sse.BeginEvent("content_block_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_start"u8);
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("content_block"u8);
        json.WriteString("type"u8, "text"u8);
        json.WriteString("text"u8, ""u8);
        json.WriteEndObject();
        json.WriteEndObject();
        sse.EndEvent();
    }

    public static void WriteDelta(SseWriter sse, ReadOnlySpan<char> text)
    {
        var json = sse.BeginEvent("content_block_delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_delta"u8);
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("delta"u8);
        json.WriteString("type"u8, "text_delta"u8);
        json.WriteString("text"u8, text);
        json.WriteEndObject();
        json.WriteEndObject();
        sse.EndEvent();
    }

    public static void WriteEnd(SseWriter sse, Completion completion)
    {
        var json = sse.BeginEvent("content_block_stop"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_stop"u8);
        json.WriteNumber("index"u8, 0);
        json.WriteEndObject();
        sse.EndEvent();

        json = sse.BeginEvent("message_delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_delta"u8);
        json.WriteStartObject("delta"u8);
        json.WriteString("stop_reason"u8, "end_turn"u8);
        json.WriteNull("stop_sequence"u8);
        json.WriteEndObject();
        json.WriteStartObject("usage"u8);
        json.WriteNumber("output_tokens"u8, completion.CompletionTokens);
        json.WriteEndObject();
        json.WriteEndObject();
        sse.EndEvent();

        sse.WriteRaw("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"u8);
    }

    private static void WriteUsage(Utf8JsonWriter json, Completion completion, int outputTokens)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, completion.PromptTokens - completion.CachedTokens);
        json.WriteNumber("output_tokens"u8, outputTokens);
        json.WriteNumber("cache_read_input_tokens"u8, completion.CachedTokens);
        json.WriteNumber("cache_creation_input_tokens"u8, 0);
        json.WriteEndObject();
    }
}
