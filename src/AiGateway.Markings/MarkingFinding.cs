namespace AiGateway.Markings;

/// <summary>
/// One marking found in a text. It carries where the marking is, never the text itself.
/// </summary>
/// <param name="Kind">The structural form of the marking.</param>
/// <param name="Level">The (US-equivalent) level the marking denotes.</param>
/// <param name="Segment">Index of the segment (message or content part) in which the marking starts.</param>
/// <param name="Offset">Offset, in UTF-16 code units of the original segment text, where the marking starts.</param>
/// <param name="Length">
/// Length in UTF-16 code units of the original text. For a marking split across adjacent segments this extends past the
/// end of <paramref name="Segment"/> into the next one; for a marking found inside decoded base64 it is the whole encoded run.
/// </param>
public readonly record struct MarkingFinding(MarkingKind Kind, MarkingLevel Level, int Segment, int Offset, int Length)
{
    /// <summary>True when the marking was found after decoding a base64 run or data URL; Offset and Length then cover the encoded run.</summary>
    public bool InDecodedContent { get; init; }
}
