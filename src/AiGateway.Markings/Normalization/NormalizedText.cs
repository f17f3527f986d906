using System.Buffers;

namespace AiGateway.Markings.Normalization;

/// <summary>
/// Text after normalisation: upper-case ASCII where a character stands for a letter, with, for every normalised
/// character, the range of original characters it came from and whether it was lower-case. Arrays are pooled.
/// </summary>
internal struct NormalizedText : IDisposable
{
    public const byte LowerFlag = 1;

    public char[] Chars;
    public int[] Start;
    public int[] End;
    public byte[] Flags;
    public int Length;

    public static NormalizedText Rent(int capacity)
    {
        capacity = Math.Max(capacity, 1);
        return new NormalizedText
        {
            Chars = ArrayPool<char>.Shared.Rent(capacity),
            Start = ArrayPool<int>.Shared.Rent(capacity),
            End = ArrayPool<int>.Shared.Rent(capacity),
            Flags = ArrayPool<byte>.Shared.Rent(capacity),
        };
    }

    public readonly ReadOnlySpan<char> Text => Chars.AsSpan(0, Length);

    public void Dispose()
    {
        if (Chars is not null)
        {
            ArrayPool<char>.Shared.Return(Chars);
            ArrayPool<int>.Shared.Return(Start);
            ArrayPool<int>.Shared.Return(End);
            ArrayPool<byte>.Shared.Return(Flags);
            Chars = null!;
        }
    }
}
