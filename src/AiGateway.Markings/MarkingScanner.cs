using System.Buffers;
using AiGateway.Markings.Matching;
using AiGateway.Markings.Scanning;

namespace AiGateway.Markings;

/// <summary>
/// Finds classification and control markings (US banners and portion marks, authority blocks, CUI, legacy
/// controls, NATO, foreign and joint markings) in prompt and answer text, resisting common evasions.
/// Immutable and thread-safe: build once, share.
/// </summary>
public sealed class MarkingScanner
{
    // A marking split across two segments is looked for in the last line of one and the first line of the next, up to this many characters each.
    private const int JunctionReach = 256;

    private readonly ScanEngine _engine;

    /// <summary>Builds a scanner.</summary>
    /// <param name="options">Options; defaults when null.</param>
    public MarkingScanner(MarkingScanOptions? options = null)
    {
        options ??= MarkingScanOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxDecodedBase64Chars);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBase64Depth);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MinEmbeddedBase64Length);
        _engine = new ScanEngine(options);
    }

    /// <summary>Scans one text (segment 0). Returns <see cref="MarkingScanResult.None"/>, without allocating, when nothing is found.</summary>
    /// <param name="text">The text to scan.</param>
    public MarkingScanResult Scan(ReadOnlySpan<char> text)
    {
        var sink = new FindingSink(0, _engine.Options.MaxDecodedBase64Chars);
        _engine.Scan(text, startIsLineStart: true, endIsLineEnd: true, ref sink, depth: 0);
        return sink.ToResult();
    }

    /// <summary>
    /// Scans several segments (messages or content parts, in order). Each segment starts a line; a marking split
    /// across two adjacent segments is also found and reported in the segment where it starts.
    /// </summary>
    /// <param name="segments">The segments, in order.</param>
    public MarkingScanResult Scan(IReadOnlyList<string> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var sink = new FindingSink(0, _engine.Options.MaxDecodedBase64Chars);
        for (var i = 0; i < segments.Count; i++)
        {
            sink.StartSegment(i);
            _engine.Scan(segments[i] ?? string.Empty, startIsLineStart: true, endIsLineEnd: true, ref sink, depth: 0);
        }

        for (var i = 0; i + 1 < segments.Count; i++)
        {
            ScanJunction(segments[i] ?? string.Empty, segments[i + 1] ?? string.Empty, i, ref sink);
        }

        return sink.ToResult();
    }

    /// <summary>Creates an incremental scanner for one streamed text (an answer), reporting findings in <paramref name="segment"/>.</summary>
    /// <param name="segment">The segment index to put in findings.</param>
    public MarkingStreamScanner CreateStreamScanner(int segment = 0) => new(_engine, segment);

    private void ScanJunction(string left, string right, int segment, ref FindingSink sink)
    {
        var tailStart = left.LastIndexOf('\n') + 1;
        var tailAtLineStart = true;
        if (left.Length - tailStart > JunctionReach)
        {
            tailStart = left.Length - JunctionReach;
            tailAtLineStart = false;
        }

        var headLength = right.IndexOf('\n');
        var headAtLineEnd = true;
        if (headLength < 0)
        {
            headLength = right.Length;
        }

        if (headLength > JunctionReach)
        {
            headLength = JunctionReach;
            headAtLineEnd = false;
        }

        var tailLength = left.Length - tailStart;
        if (tailLength == 0 || headLength == 0)
        {
            return;
        }

        var buffer = ArrayPool<char>.Shared.Rent(tailLength + headLength);
        try
        {
            left.AsSpan(tailStart).CopyTo(buffer);
            right.AsSpan(0, headLength).CopyTo(buffer.AsSpan(tailLength));
            var junction = new FindingSink(segment, 0);
            _engine.Scan(buffer.AsSpan(0, tailLength + headLength), tailAtLineStart, headAtLineEnd, ref junction, depth: int.MaxValue);
            if (junction.Findings is null)
            {
                return;
            }

            foreach (var f in junction.Findings)
            {
                // Only markings that straddle the boundary: the others were found in their own segment.
                if (f.Offset < tailLength && f.Offset + f.Length > tailLength)
                {
                    var moved = f with { Offset = tailStart + f.Offset };
                    if (!OverlapsFindingOf(sink.Findings, segment, moved))
                    {
                        sink.AddOutOfOrder(moved);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static bool OverlapsFindingOf(List<MarkingFinding>? findings, int segment, MarkingFinding candidate)
    {
        if (findings is null)
        {
            return false;
        }

        foreach (var f in findings)
        {
            if (f.Segment == segment && f.Offset < candidate.Offset + candidate.Length && candidate.Offset < f.Offset + f.Length)
            {
                return true;
            }
        }

        return false;
    }
}
