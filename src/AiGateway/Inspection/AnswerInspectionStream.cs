using System.Buffers;
using System.Text;
using AiGateway.Configuration;
using AiGateway.Markings;
using AiGateway.Model;

namespace AiGateway.Inspection;

/// <summary>
/// Sits in place of the response body while YARP copies the upstream answer, to inspect and account it.
/// JSON answers are held until complete and scanned before any byte is sent; streamed (SSE) answers pass event
/// by event, except for a small hold-back of text the stream scanner cannot yet clear, so a marking split across
/// chunks is caught. On a blocked marking the client gets an error (JSON) or a final error event (SSE) and
/// nothing after it. Reported usage is read on the way (and a usage chunk the client did not ask for is dropped).
/// </summary>
internal sealed class AnswerInspectionStream : Stream
{
    /// <summary>Largest JSON answer held for inspection; a larger one cannot be inspected and fails the request.</summary>
    private const int MaxBufferedAnswerBytes = 32 * 1024 * 1024;

    private readonly HttpContext _context;
    private readonly Stream _inner;
    private readonly MarkingScanner _scanner;
    private readonly MarkingLevel _ceiling;
    private readonly InspectionPolicy _policy;
    private readonly ApiDialect _dialect;
    private readonly string _model;
    private readonly bool _inspect;
    private readonly RateLimiting.UsageReader _usage;
    private readonly bool _dropUsageEvents;
    private readonly GatewayRequestFeature _feature;
    private readonly Queue<(byte[] Event, long TextEnd)> _held = new();
    private readonly List<MarkingFinding> _findings = [];

    private Mode _mode = Mode.Undecided;
    private ArrayBufferWriter<byte>? _buffer; // the JSON answer, or SSE bytes not yet split into events
    private MarkingStreamScanner? _streamScanner;
    private long _textChars;
    private bool _blocked;

    public AnswerInspectionStream(HttpContext context, Stream inner, MarkingScanner scanner, MarkingLevel ceiling, InspectionPolicy policy, ApiDialect dialect, string model, bool dropUsageEvents)
    {
        _feature = context.GetGatewayFeature();
        _inspect = policy.InspectAnswers;
        _usage = new RateLimiting.UsageReader(dialect == ApiDialect.Anthropic);
        _dropUsageEvents = dropUsageEvents;
        _context = context;
        _inner = inner;
        _scanner = scanner;
        _ceiling = ceiling;
        _policy = policy;
        _dialect = dialect;
        _model = model;
    }

    private enum Mode
    {
        Undecided,
        Passthrough,
        Json,
        EventStream,
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_mode is Mode.Passthrough or Mode.EventStream && !_blocked)
        {
            await _inner.FlushAsync(cancellationToken);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_mode == Mode.Undecided)
        {
            _mode = DecideMode();
        }
        else if (_mode is Mode.Json or Mode.EventStream && !_blocked && !_context.Response.HasStarted && _context.Response.StatusCode is < 200 or >= 300)
        {
            // The upstream broke before anything reached the client and the gateway answers with its own error
            // (e.g. 502): the held part of the broken answer is dropped and the error passes through unchanged.
            _held.Clear();
            _buffer = null;
            _mode = Mode.Passthrough;
        }

        switch (_mode)
        {
            case Mode.Passthrough:
                await _inner.WriteAsync(buffer, cancellationToken);
                break;
            case Mode.Json:
                if (_buffer!.WrittenCount + buffer.Length > MaxBufferedAnswerBytes)
                {
                    throw new InvalidOperationException("The answer is too large to inspect.");
                }

                _buffer.Write(buffer.Span);
                break;
            case Mode.EventStream when !_blocked:
                _buffer!.Write(buffer.Span);
                await ProcessEventsAsync(cancellationToken);
                break;
        }
    }

    private Mode DecideMode()
    {
        var response = _context.Response;
        if (response.StatusCode is < 200 or >= 300)
        {
            return Mode.Passthrough; // upstream errors carry no model output
        }

        // Sized by the answer's Content-Length where the upstream sent one (most JSON answers are well under a
        // kilobyte: a fixed 4 KiB buffer was the largest allocation of a small chat); it grows when needed.
        _buffer = new ArrayBufferWriter<byte>(response.ContentLength is > 0 and var length ? (int)Math.Min(length, 1024 * 1024) : 1024);
        if ((response.ContentType ?? string.Empty).StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            _streamScanner = _scanner.CreateStreamScanner();
            return Mode.EventStream;
        }

        return Mode.Json;
    }

    /// <summary>Called once the upstream answer has been copied completely.</summary>
    public async Task CompleteAsync(GatewayRequestFeature feature, CancellationToken cancellationToken)
    {
        if (_mode == Mode.Json)
        {
            await CompleteJsonAsync(feature, cancellationToken);
        }
        else if (_mode == Mode.EventStream && !_blocked)
        {
            // A trailing event without its blank line is still inspected, then the hold-back is released.
            if (_buffer!.WrittenCount > 0)
            {
                var rest = _buffer.WrittenSpan.ToArray();
                _buffer.Clear();
                await OnEventAsync(rest, cancellationToken);
            }

            if (!_blocked && !(_inspect && await CheckAsync(_streamScanner!.Complete(), cancellationToken)))
            {
                await ReleaseAsync(long.MaxValue, cancellationToken);
                await _inner.FlushAsync(cancellationToken);
            }
        }

        if (_usage.HasUsage)
        {
            feature.Usage = _usage.Usage;
        }

        if (_findings.Count > 0)
        {
            var outcome = InspectionOutcome.Decide(_findings, _ceiling, _policy);
            feature.AnswerInspection = _blocked ? outcome with { Decision = MarkingDecision.Blocked } : outcome;
        }
    }

    private async Task CompleteJsonAsync(GatewayRequestFeature feature, CancellationToken cancellationToken)
    {
        // Receiving a held answer's body is upstream time, not gateway overhead.
        feature.UpstreamWaitTicks += System.Diagnostics.Stopwatch.GetTimestamp() - feature.UpstreamSendTimestamp;

        _usage.Read(_buffer!.WrittenSpan);
        List<string>? texts = null;
        if (feature.CaptureContent)
        {
            // The agency opted in to the content journal (audit.captureContent): keep the answer text, bounded.
            texts = [];
            AnswerText.Collect(_buffer.WrittenSpan, texts);
            foreach (var text in texts)
            {
                feature.AppendAnswerContent(text);
            }
        }

        if (!_inspect)
        {
            await _inner.WriteAsync(_buffer.WrittenMemory, cancellationToken);
            return;
        }

        if (texts is null)
        {
            texts = [];
            AnswerText.Collect(_buffer!.WrittenSpan, texts);
        }

        var result = _scanner.Scan(texts);
        _findings.AddRange(result.Findings);
        var outcome = InspectionOutcome.Decide(result, _ceiling, _policy);
        if (outcome.Decision == MarkingDecision.Blocked)
        {
            _blocked = true;
            _context.Response.Clear();
            feature.DenialCode = "classified_content_blocked";
            // The error goes to the real body, not back into this stream.
            _context.Response.Body = _inner;
            await BlockedError(outcome.HighestLevel!.Value).WriteAsync(_context, _dialect);
            return;
        }

        await _inner.WriteAsync(_buffer.WrittenMemory, cancellationToken);
    }

    private async Task ProcessEventsAsync(CancellationToken cancellationToken)
    {
        while (!_blocked)
        {
            var span = _buffer!.WrittenSpan;
            var end = EventEnd(span, out var separatorLength);
            if (end < 0)
            {
                return;
            }

            var eventBytes = span[..(end + separatorLength)].ToArray();
            var remaining = span[(end + separatorLength)..].ToArray();
            _buffer.Clear();
            _buffer.Write(remaining);
            await OnEventAsync(eventBytes, cancellationToken);
        }
    }

    private async Task OnEventAsync(byte[] eventBytes, CancellationToken cancellationToken)
    {
        var data = DataOf(eventBytes);
        if (data.Length > 0 && !data.Span.SequenceEqual("[DONE]"u8))
        {
            if (_usage.Read(data.Span) && _dropUsageEvents && IsUsageOnlyChunk(data.Span))
            {
                return; // the gateway asked for this chunk, the client did not
            }

            var texts = new List<string>();
            AnswerText.Collect(data.Span, texts);
            foreach (var text in texts)
            {
                _textChars += text.Length;
                _feature.AnswerCharacters = _textChars;
                _feature.AppendAnswerContent(text);
                if (_inspect && await CheckAsync(_streamScanner!.Append(text), cancellationToken))
                {
                    return;
                }
            }
        }

        // An event leaves only once all text up to its own end is past the scanner's hold-back.
        _held.Enqueue((eventBytes, _textChars));
        await ReleaseAsync(_inspect ? _textChars - _streamScanner!.HoldBackChars : long.MaxValue, cancellationToken);
    }

    /// <summary>Records findings; on a blocking one ends the stream with an error event. Returns true when blocked.</summary>
    private async Task<bool> CheckAsync(MarkingScanResult result, CancellationToken cancellationToken)
    {
        if (!result.HasMarkings)
        {
            return false;
        }

        _findings.AddRange(result.Findings);
        var outcome = InspectionOutcome.Decide(result, _ceiling, _policy);
        if (outcome.Decision != MarkingDecision.Blocked)
        {
            return false;
        }

        _blocked = true;
        _held.Clear();
        _context.GetGatewayFeature().DenialCode = "classified_content_blocked";
        var json = ErrorEventJson(BlockedError(outcome.HighestLevel!.Value));
        var bytes = Encoding.UTF8.GetBytes(_dialect == ApiDialect.Anthropic ? $"event: error\ndata: {json}\n\n" : $"data: {json}\n\n");
        await _inner.WriteAsync(bytes, cancellationToken);
        await _inner.FlushAsync(cancellationToken);
        // Nothing after the error event: the client's response ends here; the rest of the upstream stream is dropped.
        await _context.Response.CompleteAsync();
        return true;
    }

    private async Task ReleaseAsync(long releasedTextPosition, CancellationToken cancellationToken)
    {
        while (_held.TryPeek(out var held) && held.TextEnd <= releasedTextPosition)
        {
            _held.Dequeue();
            await _inner.WriteAsync(held.Event, cancellationToken);
        }
    }

    private GatewayError BlockedError(MarkingLevel level) => new(
        StatusCodes.Status403Forbidden,
        "classified_content_blocked",
        $"The answer was withheld: it carries {InspectionOutcome.LevelName(level)} markings, and answers of '{_model}' may carry at most {InspectionOutcome.LevelName(_ceiling)} here.");

    private static string ErrorEventJson(GatewayError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "error");
            writer.WriteStartObject("error");
            writer.WriteString("type", "permission_error");
            writer.WriteString("code", error.Code);
            writer.WriteString("message", error.Message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>OpenAI's final usage chunk: <c>"choices":[]</c> with a usage object.</summary>
    private static bool IsUsageOnlyChunk(ReadOnlySpan<byte> data) =>
        data.IndexOf("\"choices\":[]"u8) >= 0 || data.IndexOf("\"choices\": []"u8) >= 0;

    /// <summary>Index of the blank line ending the first complete event, or -1.</summary>
    private static int EventEnd(ReadOnlySpan<byte> span, out int separatorLength)
    {
        var lf = span.IndexOf("\n\n"u8);
        var crlf = span.IndexOf("\r\n\r\n"u8);
        if (crlf >= 0 && (lf < 0 || crlf < lf))
        {
            separatorLength = 4;
            return crlf;
        }

        separatorLength = 2;
        return lf;
    }

    /// <summary>The <c>data:</c> lines of one event, joined by newlines.</summary>
    private static ReadOnlyMemory<byte> DataOf(byte[] eventBytes)
    {
        // Nearly every event has exactly one data line: it is returned in place, not copied (two allocations
        // per streamed chunk less); only a multi-line event is joined into a new buffer.
        ArrayBufferWriter<byte>? joined = null;
        ReadOnlyMemory<byte> first = default;
        var found = 0;
        ReadOnlyMemory<byte> rest = eventBytes;
        while (rest.Length > 0)
        {
            var newline = rest.Span.IndexOf((byte)'\n');
            var line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? default : rest[(newline + 1)..];
            while (line.Length > 0 && line.Span[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.Span.StartsWith("data:"u8))
            {
                var value = line[5..];
                if (value.Length > 0 && value.Span[0] == (byte)' ')
                {
                    value = value[1..];
                }

                if (++found == 1)
                {
                    first = value;
                    continue;
                }

                if (joined is null)
                {
                    joined = new ArrayBufferWriter<byte>(eventBytes.Length);
                    joined.Write(first.Span);
                }

                joined.Write("\n"u8);
                joined.Write(value.Span);
            }
        }

        return joined is null ? first : joined.WrittenMemory;
    }
}
