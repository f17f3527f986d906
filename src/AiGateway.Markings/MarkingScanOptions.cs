namespace AiGateway.Markings;

/// <summary>Options of a <see cref="MarkingScanner"/>. Immutable once the scanner is built.</summary>
public sealed class MarkingScanOptions
{
    /// <summary>Most characters decoded from base64 runs and data URLs per scan call; 0 disables decoding. Default 64 Ki.</summary>
    public int MaxDecodedBase64Chars { get; init; } = 64 * 1024;

    /// <summary>How many times base64 is decoded inside decoded base64. Default 2.</summary>
    public int MaxBase64Depth { get; init; } = 2;

    /// <summary>
    /// Shortest base64 run (in characters) decoded when it is embedded in other text. Default 24; runs of 23 or more
    /// characters are always examined, shorter ones only when they are a whole segment or a data-URL payload (from 8 characters).
    /// </summary>
    public int MinEmbeddedBase64Length { get; init; } = 24;

    internal static MarkingScanOptions Default { get; } = new();
}
