using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AiGateway.RateLimiting;

/// <summary>
/// Token counts of recently seen prompt texts, per caller. Chat clients resend the whole conversation on every turn
/// and agents resend their instructions and tool results in a loop, so most of a prompt's text was counted on the
/// caller's previous request; the tokenizer (~20 µs per KiB) then only runs on what is new.
/// <para>
/// The key is a 128-bit XxHash of the text, seeded with the caller (agency and subject) and the tokenizer, with a
/// per-process random secret: one caller's requests can never be answered from another caller's entries (no timing
/// signal that someone else sent the same text), and keys cannot be predicted from outside. No text is kept. A
/// collision would only mis-size one reservation, which the provider's reported usage replaces after the call.
/// </para>
/// Direct-mapped and fixed in size (<see cref="Capacity"/> entries, ~0.4 MiB): a newer text simply replaces an older one.
/// </summary>
internal sealed class TokenCountCache
{
    /// <summary>Texts shorter than this are tokenized directly (hashing would save less than it costs to look up).</summary>
    public const int MinCharacters = 64;

    public const int Capacity = 8192;

    private readonly Entry?[] _entries = new Entry?[Capacity];
    private readonly ulong _secret = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    /// <summary>The seed for one caller's keys with one tokenizer.</summary>
    public long Partition(string agency, string subjectId, int tokenizerId)
    {
        // agency NUL subject NUL tokenizer, hashed in one call (an XxHash3 instance would be ~600 B per request).
        var length = agency.Length + subjectId.Length + 3;
        var rented = length > 256 ? System.Buffers.ArrayPool<char>.Shared.Rent(length) : null;
        var chars = rented is null ? stackalloc char[length] : rented.AsSpan(0, length);
        agency.CopyTo(chars);
        chars[agency.Length] = '\0';
        subjectId.CopyTo(chars[(agency.Length + 1)..]);
        chars[^2] = '\0';
        chars[^1] = (char)tokenizerId;
        var hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(chars), (long)_secret);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<char>.Shared.Return(rented);
        }

        return (long)hash;
    }

    public static UInt128 Key(long partition, ReadOnlySpan<char> text) =>
        XxHash128.HashToUInt128(MemoryMarshal.AsBytes(text), partition);

    public bool TryGet(UInt128 key, out int tokens)
    {
        var entry = Volatile.Read(ref _entries[Slot(key)]);
        if (entry is not null && entry.Key == key)
        {
            tokens = entry.Tokens;
            return true;
        }

        tokens = 0;
        return false;
    }

    public void Set(UInt128 key, int tokens) => Volatile.Write(ref _entries[Slot(key)], new Entry(key, tokens));

    private static int Slot(UInt128 key) => (int)((ulong)key & (Capacity - 1));

    private sealed class Entry(UInt128 key, int tokens)
    {
        public readonly UInt128 Key = key;
        public readonly int Tokens = tokens;
    }
}
