using AiGateway.Markings.Matching;
using AiGateway.Markings.Scanning;

namespace AiGateway.Markings;

/// <summary>
/// Scans a streamed text chunk by chunk. Text since the last line break is held back (at most
/// <see cref="MaxHoldBackChars"/> characters) and rescanned with the next chunk, so a marking split across chunks
/// is found. Not thread-safe: one instance per stream.
/// </summary>
public sealed class MarkingStreamScanner
{
    /// <summary>The most characters ever held back between chunks.</summary>
    public const int MaxHoldBackChars = 160;

    // When the current line is longer than the hold-back, only its tail is kept: long enough for any marking.
    private const int TailHoldBack = 128;

    private readonly ScanEngine _engine;
    private readonly int _segment;
    private char[] _buffer = new char[256];
    private int _length;
    private int _bufferStart;
    private bool _bufferAtLineStart = true;
    private int _emitFloor;
    private int _decodedBudget;
    private bool _completed;

    internal MarkingStreamScanner(ScanEngine engine, int segment)
    {
        _engine = engine;
        _segment = segment;
        _decodedBudget = engine.Options.MaxDecodedBase64Chars;
    }

    /// <summary>How many trailing characters received so far are not yet safe to release (never more than <see cref="MaxHoldBackChars"/>).</summary>
    public int HoldBackChars => _length;

    /// <summary>Adds a chunk; returns the findings that became certain with it (offsets from the start of the stream).</summary>
    /// <param name="chunk">The next chunk of the stream.</param>
    public MarkingScanResult Append(ReadOnlySpan<char> chunk)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (chunk.IsEmpty)
        {
            return MarkingScanResult.None;
        }

        if (_buffer.Length < _length + chunk.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + chunk.Length));
        }

        chunk.CopyTo(_buffer.AsSpan(_length));
        _length += chunk.Length;
        var (keepStart, keepAtLineStart) = HoldBackStart();
        var result = ScanBuffer(endIsLineEnd: false, releaseBefore: keepStart);
        KeepFrom(keepStart, keepAtLineStart);
        return result;
    }

    /// <summary>Ends the stream: scans and releases the held-back text.</summary>
    public MarkingScanResult Complete()
    {
        if (_completed)
        {
            return MarkingScanResult.None;
        }

        var result = _length == 0 ? MarkingScanResult.None : ScanBuffer(endIsLineEnd: true, releaseBefore: _length);
        _bufferStart += _length;
        _length = 0;
        _completed = true;
        return result;
    }

    // Findings that start in the held-back text are not yet certain (the rest of the line may still change them);
    // they are found again, complete, by the next scan.
    private MarkingScanResult ScanBuffer(bool endIsLineEnd, int releaseBefore)
    {
        var sink = new FindingSink(_segment, _decodedBudget);
        _engine.Scan(_buffer.AsSpan(0, _length), _bufferAtLineStart, endIsLineEnd, ref sink, depth: 0);
        _decodedBudget = sink.DecodedBudget;
        if (sink.Findings is null)
        {
            return MarkingScanResult.None;
        }

        sink.Findings.Sort(static (x, y) => x.Offset.CompareTo(y.Offset));
        List<MarkingFinding>? emitted = null;
        foreach (var f in sink.Findings)
        {
            var absolute = _bufferStart + f.Offset;
            if (f.Offset >= releaseBefore)
            {
                break;
            }

            if (absolute < _emitFloor)
            {
                continue;
            }

            (emitted ??= []).Add(f with { Offset = absolute });
            _emitFloor = f.InDecodedContent ? absolute + 1 : absolute + f.Length;
        }

        return MarkingScanResult.From(emitted);
    }

    private (int Start, bool AtLineStart) HoldBackStart()
    {
        var text = _buffer.AsSpan(0, _length);
        var lastNewLine = text.LastIndexOf('\n');
        var keepStart = lastNewLine + 1;
        var atLineStart = lastNewLine >= 0 || _bufferAtLineStart;
        if (_length - keepStart > MaxHoldBackChars)
        {
            keepStart = _length - TailHoldBack;
            var space = text.Slice(keepStart, 32).IndexOfAny(' ', '\t');
            if (space >= 0)
            {
                keepStart += space + 1;
            }

            atLineStart = false;
        }

        return (keepStart, atLineStart);
    }

    private void KeepFrom(int keepStart, bool atLineStart)
    {
        _buffer.AsSpan(keepStart, _length - keepStart).CopyTo(_buffer);
        _length -= keepStart;
        _bufferStart += keepStart;
        _bufferAtLineStart = atLineStart;
        if (_buffer.Length > 64 * 1024)
        {
            Array.Resize(ref _buffer, 1024);
        }
    }
}
