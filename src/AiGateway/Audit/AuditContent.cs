using System.Buffers;
using System.Text.Json;
using AiGateway.Model;

namespace AiGateway.Audit;

/// <summary>
/// The prompt and answer text of one request of an agency with <c>audit.captureContent</c>. Written only to the
/// separate content journal (<c>&lt;journal dir&gt;-content/</c>), never to the audit journal, OTLP or logs; the
/// audit event id joins it to the SIEM record.
/// </summary>
internal sealed class AuditContent
{
    public required IReadOnlyList<TextSegment> Prompt { get; init; }

    /// <summary>The answer text as the gateway saw it (null when no answer was received).</summary>
    public string? Answer { get; init; }

    /// <summary>True when the answer was longer than <see cref="GatewayRequestFeature.MaxAnswerContentChars"/> and was cut.</summary>
    public bool AnswerTruncated { get; init; }

    /// <summary>The content of a request whose agency captures content, else null.</summary>
    public static AuditContent? Capture(GatewayRequestFeature feature) => feature.CaptureContent
        ? new AuditContent
        {
            Prompt = feature.Request?.Segments ?? [],
            Answer = feature.AnswerContent?.ToString(),
            AnswerTruncated = feature.AnswerContentTruncated,
        }
        : null;

    /// <summary>
    /// One content record: <c>{"event_uid":"…","time":ms,"request_id":"…","agency":"…","prompt":[{"source":"message",
    /// "message":0,"role":"user","text":"…"}],"answer":{"text":"…","truncated":false}}</c>.
    /// </summary>
    public static void Write(AuditEvent e, AuditContent content, IBufferWriter<byte> output)
    {
        using var w = new Utf8JsonWriter(output);
        w.WriteStartObject();
        w.WriteString("event_uid", e.EventId);
        w.WriteNumber("time", e.EndTimeUnixMs);
        w.WriteString("request_id", e.RequestId);
        if (e.Caller is { } caller)
        {
            w.WriteString("agency", caller.Agency);
        }

        w.WriteStartArray("prompt");
        foreach (var segment in content.Prompt)
        {
            w.WriteStartObject();
            w.WriteString("source", SourceName(segment.Source));
            w.WriteNumber("message", segment.MessageIndex);
            if (segment.Role is { } role)
            {
                w.WriteString("role", role);
            }

            w.WriteString("text", segment.Text);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("answer");
        if (content.Answer is { } answer)
        {
            w.WriteString("text", answer);
        }
        else
        {
            w.WriteNull("text");
        }

        w.WriteBoolean("truncated", content.AnswerTruncated);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string SourceName(SegmentSource source) => source switch
    {
        SegmentSource.System => "system",
        SegmentSource.Message => "message",
        SegmentSource.Tool => "tool",
        _ => "other",
    };
}
