using AiGateway.Markings.Matching;
using AiGateway.Markings.Scanning;

namespace AiGateway.Markings;

/// <summary>
/// Scans a streamed text chunk by chunk. Only the shortest suffix that could still become (part of) a marking is
/// held back (<see cref="HoldBackChars"/>, at most <see cref="MaxHoldBackChars"/>; see <see cref="StreamHoldBack"/>
/// for the rule); everything before it is final and may be released. The unfinished line is kept and rescanned
/// with the next chunk (as context: the matcher sees the same line as a one-shot scan), so a marking split across
/// chunks is found, and a finding is reported as soon as the text it starts in is released. Not thread-safe: one
/// instance per stream.
/// </summary>
public sealed class MarkingStreamScanner
{
    /// <summary>The most characters ever held back between chunks.</summary>
    public const int MaxHoldBackChars = 160;

    // When the current line is longer than the hold-back, only its tail is kept: long enough for any marking.
    private const int TailHoldBack = 128;

    // Longest context kept for rescanning a long line (only a long token makes it exceed the hold-back).
    private const int MaxContextChars = 512;

    private readonly ScanEngine _engine;
    private readonly int _segment;
    private char[] _buffer = new char[256];
    private int _length;
    private int _bufferStart;
    private bool _bufferAtLineStart = true;
    private int _emitFloor;
    private int _holdBack;
    private int _released;
    private int _resume = -1; // where the hold-back examination of the current line may start (absolute), see StreamHoldBack.SafeEnd
    private int _decodedBudget;
    private bool _completed;

    internal MarkingStreamScanner(ScanEngine engine, int segment)
    {
        _engine = engine;
        _segment = segment;
        _decodedBudget = engine.Options.MaxDecodedBase64Chars;
    }

    /// <summary>How many trailing characters received so far are not yet safe to release (never more than <see cref="MaxHoldBackChars"/>).</summary>
    public int HoldBackChars => _holdBack;

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
        var (release, lineStart, keepStart, keepAtLineStart) = HoldBackStart();
        var found = Scan(endIsLineEnd: false);
        release = HoldWholeBase64Line(found, release, lineStart, keepStart);
        var result = Emit(found, release);
        _released = _bufferStart + release;
        _holdBack = _length - release;
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

        var result = _length == 0 ? MarkingScanResult.None : Emit(Scan(endIsLineEnd: true), _length);
        _bufferStart += _length;
        _length = 0;
        _holdBack = 0;
        _completed = true;
        return result;
    }

    private List<MarkingFinding>? Scan(bool endIsLineEnd)
    {
        var sink = new FindingSink(_segment, _decodedBudget);
        _engine.Scan(_buffer.AsSpan(0, _length), _bufferAtLineStart, endIsLineEnd, ref sink, depth: 0);
        _decodedBudget = sink.DecodedBudget;
        sink.Findings?.Sort(static (x, y) => x.Offset.CompareTo(y.Offset));
        return sink.Findings;
    }

    // A line that is one base64 token so far is decoded as a whole ("wholly base64" text), and whatever follows on
    // the line may undo that: such a finding is certain only at the line end, so the line stays held until then.
    private int HoldWholeBase64Line(List<MarkingFinding>? found, int release, int lineStart, int keepStart)
    {
        if (found is null)
        {
            return release;
        }

        foreach (var f in found)
        {
            if (f.InDecodedContent && f.Offset >= lineStart && f.Offset >= keepStart && f.Offset < release
                && _length - f.Offset <= MaxHoldBackChars && f.Offset >= _released - _bufferStart
                && _buffer.AsSpan(lineStart, _length - lineStart).Trim().IndexOfAny(' ', '\t') < 0)
            {
                return f.Offset;
            }
        }

        return release;
    }

    // Findings that start in the held-back text are not yet certain (more text may still change them); they are
    // found again, complete, by the next scan.
    private MarkingScanResult Emit(List<MarkingFinding>? found, int releaseBefore)
    {
        if (found is null)
        {
            return MarkingScanResult.None;
        }

        List<MarkingFinding>? emitted = null;
        foreach (var f in found)
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

    // Release point: where the held-back suffix starts (StreamHoldBack, capped). Keep point: where the rescanned
    // context starts: the current line (or, on a line longer than the cap, its tail), and never after the release
    // point. Releasing never moves backwards.
    private (int Release, int LineStart, int Keep, bool KeepAtLineStart) HoldBackStart()
    {
        var text = _buffer.AsSpan(0, _length);
        var lastNewLine = text.LastIndexOf('\n');
        var lineStart = lastNewLine + 1;
        var lineStartReal = lastNewLine >= 0 || _bufferAtLineStart;

        var keepStart = lineStart;
        var atLineStart = lineStartReal;
        if (_length - keepStart > MaxHoldBackChars)
        {
            keepStart = KeepTailStart(text, lineStart);
            atLineStart = keepStart == lineStart && lineStartReal;
        }

        // The examination starts where the previous one may resume on this line: it need not walk the whole line
        // again for every chunk (a long answer line arrives in hundreds of small chunks).
        var origin = _resume - _bufferStart;
        var resumed = origin > lineStart && origin <= _length;
        var release = StreamHoldBack.SafeEnd(text, resumed ? origin : lineStart, !resumed && lineStartReal, out var resume);
        if (resume >= 0)
        {
            _resume = _bufferStart + resume;
        }

        if (release == StreamHoldBack.Unbounded && resumed && _length - origin <= StreamHoldBack.Window)
        {
            // The marking-ish run reaches back to the resume point: a complete word that is no part of a marking ends
            // it there, as the whole line's examination would find.
            release = origin;
        }

        if (release == StreamHoldBack.Unbounded)
        {
            release = _length <= MaxHoldBackChars ? 0 : TailStart(text);
        }
        else if (_length - release > MaxHoldBackChars)
        {
            release = TailStart(text);
        }

        // Already released text stays released (the previous release point is at or after the buffer start).
        release = Math.Max(release, _released - _bufferStart);
        if (release < keepStart)
        {
            // A held run longer than the kept tail of a long line.
            keepStart = ContextStart(text, release, lineStart);
            atLineStart = keepStart == lineStart && lineStartReal;
        }

        return (release, lineStart, keepStart, atLineStart);
    }

    // The rescanned context of a long line starts where the text before it cannot change how the matcher reads
    // what follows (ContextStart), so a rescan finds exactly what a one-shot scan finds there.
    private int KeepTailStart(ReadOnlySpan<char> text, int lineStart) => ContextStart(text, TailStart(text), lineStart);

    // The nearest position at or before p (at most MaxContextChars back) that is the line start, or follows white
    // space that follows a word of two or more letters or digits: then no spaced-letter run ("x S E C"), HTML
    // reference, base64 run or "//" reaches across it. Falls back to p.
    private int ContextStart(ReadOnlySpan<char> text, int p, int lineStart)
    {
        var limit = Math.Max(lineStart, _length - MaxContextChars);
        for (var k = p; k >= limit; k--)
        {
            if (k == lineStart)
            {
                return k;
            }

            if (text[k - 1] is not (' ' or '\t'))
            {
                continue;
            }

            var q = k - 1;
            while (q > lineStart && text[q - 1] is ' ' or '\t')
            {
                q--;
            }

            if (q - 2 >= lineStart && char.IsLetterOrDigit(text[q - 1]) && char.IsLetterOrDigit(text[q - 2]))
            {
                return k;
            }
        }

        return p;
    }

    private int TailStart(ReadOnlySpan<char> text)
    {
        var start = _length - TailHoldBack;
        var space = text.Slice(start, 32).IndexOfAny(' ', '\t');
        return space >= 0 ? start + space + 1 : start;
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
