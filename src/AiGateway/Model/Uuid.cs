using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AiGateway.Model;

/// <summary>
/// Request-path identifiers from the system CSPRNG, drawn 4 KiB at a time per thread. <see cref="Guid.NewGuid"/> and
/// <see cref="Guid.CreateVersion7()"/> read 16 bytes from <c>/dev/urandom</c> with a system call each on this
/// platform — one to two per request (audit event id, limit lease) for nothing but an id.
/// </summary>
internal static class Uuid
{
    private const int BufferSize = 4096;

    [ThreadStatic]
    private static byte[]? t_buffer;

    [ThreadStatic]
    private static int t_used;

    /// <summary>An RFC 9562 version 7 UUID: 48-bit Unix milliseconds, then 74 random bits (time-ordered, like <see cref="Guid.CreateVersion7(DateTimeOffset)"/>).</summary>
    public static Guid NewVersion7(DateTimeOffset timestamp)
    {
        Span<byte> bytes = stackalloc byte[16];
        Random(bytes[6..]);
        var ms = timestamp.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteInt64BigEndian(bytes, ms << 16 | BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]));
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F)); // version 7
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F)); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>128 random bits as 32 lower-case hex digits (what <c>Guid.NewGuid().ToString("N")</c> gave, minus the version bits).</summary>
    public static string NewHex()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    private static void Random(Span<byte> destination)
    {
        var buffer = t_buffer ??= new byte[BufferSize];
        if (t_used == 0 || t_used + destination.Length > BufferSize)
        {
            RandomNumberGenerator.Fill(buffer);
            t_used = 0;
        }

        buffer.AsSpan(t_used, destination.Length).CopyTo(destination);
        buffer.AsSpan(t_used, destination.Length).Clear(); // what was handed out does not stay in memory
        t_used += destination.Length;
    }
}
