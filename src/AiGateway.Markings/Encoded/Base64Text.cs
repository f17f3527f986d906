namespace AiGateway.Markings.Encoded;

/// <summary>Base64 (standard and URL-safe alphabets, padding optional, whitespace ignored) without exceptions.</summary>
internal static class Base64Text
{
    public static bool IsBase64Char(char c) =>
        (uint)((c | 0x20) - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9 || c is '+' or '/' or '=' or '-' or '_';

    /// <summary>Decodes into <paramref name="dest"/> (at least <c>chars.Length * 3 / 4 + 3</c> bytes); returns the byte count, or -1 when a character is not base64.</summary>
    public static int Decode(ReadOnlySpan<char> chars, Span<byte> dest)
    {
        var acc = 0;
        var bits = 0;
        var n = 0;
        foreach (var c in chars)
        {
            int v;
            switch (c)
            {
                case >= 'A' and <= 'Z': v = c - 'A'; break;
                case >= 'a' and <= 'z': v = c - 'a' + 26; break;
                case >= '0' and <= '9': v = c - '0' + 52; break;
                case '+' or '-': v = 62; break;
                case '/' or '_': v = 63; break;
                case '=': return n;
                case ' ' or '\t' or '\r' or '\n': continue;
                default: return -1;
            }

            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                dest[n++] = (byte)(acc >> bits);
                acc &= (1 << bits) - 1;
            }
        }

        return n;
    }
}
