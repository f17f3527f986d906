using System.Text.Json;

namespace LlmSimulator.Protocol;

/// <summary>OpenAI Responses API bodies and events.</summary>
internal static class OpenAiResponses
{
    public static void WriteBody(Utf8JsonWriter json, Completion completion) => WriteResponse(json, completion, completed: true);

    public static void WriteStart(SseWriter sse, Completion completion)
    {
        var json = sse.BeginEvent("response.created"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "response.created"u8);
        json.WriteNumber("sequence_number"u8, 0);
        json.WritePropertyName("response"u8);
        WriteResponse(json, completion, completed: false);
        json.WriteEndObject();
        sse.EndEvent();
    }

    public static void WriteDelta(SseWriter sse, Completion completion, ReadOnlySpan<char> text, int sequenceNumber)
    {
        var json = sse.BeginEvent("response.output_text.delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "response.output_text.delta"u8);
        json.WriteNumber("sequence_number"u8, sequenceNumber);
        json.WriteString("item_id"u8, MessageId(completion));
        json.WriteNumber("output_index"u8, 0);
        json.WriteNumber("content_index"u8, 0);
        json.WriteString("delta"u8, text);
        json.WriteEndObject();
        sse.EndEvent();
    }

    public static void WriteEnd(SseWriter sse, Completion completion, int sequenceNumber)
    {
        var json = sse.BeginEvent("response.completed"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "response.completed"u8);
        json.WriteNumber("sequence_number"u8, sequenceNumber);
        json.WritePropertyName("response"u8);
        WriteResponse(json, completion, completed: true);
        json.WriteEndObject();
        sse.EndEvent();
    }

    private static string MessageId(Completion completion) => "msg_" + completion.Id;

    private static void WriteResponse(Utf8JsonWriter json, Completion completion, bool completed)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, completion.Id);
        json.WriteString("object"u8, "response"u8);
        json.WriteNumber("created_at"u8, completion.Created);
        json.WriteString("status"u8, completed ? "completed"u8 : "in_progress"u8);
        json.WriteString("model"u8, completion.Model);
        json.WriteStartArray("output"u8);
        if (completed)
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "message"u8);
            json.WriteString("id"u8, MessageId(completion));
            json.WriteString("status"u8, "completed"u8);
            json.WriteString("role"u8, "assistant"u8);
            json.WriteStartArray("content"u8);
            json.WriteStartObject();
            json.WriteString("type"u8, "output_text"u8);
            json.WriteString("text"u8, completion.Reply);
            json.WriteStartArray("annotations"u8);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (completed)
        {
            json.WriteStartObject("usage"u8);
            json.WriteNumber("input_tokens"u8, completion.PromptTokens);
            json.WriteNumber("output_tokens"u8, completion.CompletionTokens);
            json.WriteNumber("total_tokens"u8, completion.TotalTokens);
            json.WriteStartObject("input_tokens_details"u8);
            json.WriteNumber("cached_tokens"u8, completion.CachedTokens);
            json.WriteEndObject();
            json.WriteStartObject("output_tokens_details"u8);
            json.WriteNumber("reasoning_tokens"u8, completion.ReasoningTokens);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("usage"u8);
        }

        json.WriteEndObject();
    }
}
