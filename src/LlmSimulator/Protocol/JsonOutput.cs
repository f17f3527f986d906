using System.Buffers;
using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LlmSimulator.Protocol;

/// <summary>
/// Non-streamed bodies are built in a per-thread buffer first so the response carries Content-Length
/// instead of chunked encoding. Building and copying are synchronous, so the buffer never crosses an await.
/// </summary>
internal static class JsonOutput
{
    private const int MaxRetainedBytes = 1 << 20;

    /// <summary>
    /// Real APIs send non-ASCII text as raw UTF-8; the default encoder's \uXXXX escapes would make the
    /// simulator's bytes unlike production for anything that scans response bodies.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static Utf8JsonWriter Begin()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        if (t_writer is null)
        {
            t_writer = new Utf8JsonWriter(buffer, WriterOptions);
        }
        else
        {
            t_writer.Reset(buffer);
        }

        return t_writer;
    }

    /// <summary>Sends only the first half of the body, under the full Content-Length, for the mid-stream reset fault.</summary>
    public static ValueTask<FlushResult> SendTruncatedAsync(HttpResponse response, Utf8JsonWriter writer, string contentType, CancellationToken cancellationToken)
    {
        writer.Flush();
        var buffer = t_buffer!;
        response.ContentType = contentType;
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan[..(buffer.WrittenCount / 2)]);
        return response.BodyWriter.FlushAsync(cancellationToken);
    }

    /// <summary>Copies the body built since <see cref="Begin"/> into the response and flushes it.</summary>
    public static ValueTask<FlushResult> SendAsync(HttpResponse response, Utf8JsonWriter writer, string contentType, CancellationToken cancellationToken)
    {
        writer.Flush();
        var buffer = t_buffer!;
        response.ContentType = contentType;
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > MaxRetainedBytes)
        {
            // A huge embeddings answer should not pin a megabyte per thread forever.
            t_buffer = null;
            t_writer = null;
        }

        return response.BodyWriter.FlushAsync(cancellationToken);
    }
}

/// <summary>Writes server-sent events straight into the response pipe; one JSON writer per stream.</summary>
internal sealed class SseWriter(PipeWriter pipe) : IDisposable
{
    private readonly Utf8JsonWriter _json = new(pipe, JsonOutput.WriterOptions);

    public Utf8JsonWriter BeginEvent(ReadOnlySpan<byte> eventName)
    {
        if (!eventName.IsEmpty)
        {
            pipe.Write("event: "u8);
            pipe.Write(eventName);
            pipe.Write("\n"u8);
        }

        pipe.Write("data: "u8);
        _json.Reset(pipe);
        return _json;
    }

    public void EndEvent()
    {
        _json.Flush();
        pipe.Write("\n\n"u8);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes) => pipe.Write(bytes);

    /// <summary>False when the client has gone away, so the caller stops producing chunks.</summary>
    public async ValueTask<bool> FlushAsync(CancellationToken cancellationToken)
    {
        var result = await pipe.FlushAsync(cancellationToken);
        return !result.IsCompleted && !result.IsCanceled;
    }

    public void Dispose() => _json.Dispose();
}
