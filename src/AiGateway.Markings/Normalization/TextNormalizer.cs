namespace AiGateway.Markings.Normalization;

/// <summary>
/// Normalises text for marking matching and keeps the map back to original offsets. Linear in the input:
/// one pass folds characters and decodes HTML references, a second pass joins spaced or dotted single letters.
/// </summary>
internal static class TextNormalizer
{
    private const int MaxSeparatorRun = 3;

    /// <summary>Normalises <paramref name="text"/>; offsets in the result are <paramref name="baseOffset"/> + index in <paramref name="text"/>.</summary>
    public static void Normalize(ReadOnlySpan<char> text, int baseOffset, ref NormalizedText nt)
    {
        var chars = nt.Chars;
        var start = nt.Start;
        var end = nt.End;
        var flags = nt.Flags;
        var n = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var consumed = 1;
            int folded;
            bool lower;
            if (c < 0x80)
            {
                if (c == '&' && HtmlEntities.TryDecode(text[i..], out var cp, out var len))
                {
                    consumed = len;
                    if (cp == '&')
                    {
                        // A decoded ampersand is not decoded again: one level of references only.
                        folded = '&';
                        lower = false;
                    }
                    else
                    {
                        folded = CharFolding.FoldCodePoint(cp, out lower);
                    }
                }
                else if (c is >= 'a' and <= 'z')
                {
                    folded = c - 32;
                    lower = true;
                }
                else
                {
                    folded = c;
                    lower = false;
                }
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                consumed = 2;
                folded = CharFolding.FoldCodePoint(char.ConvertToUtf32(c, text[i + 1]), out lower);
            }
            else
            {
                folded = CharFolding.Fold(c, out lower);
            }

            if (folded != CharFolding.Removed)
            {
                chars[n] = (char)folded;
                start[n] = baseOffset + i;
                end[n] = baseOffset + i + consumed;
                flags[n] = lower ? NormalizedText.LowerFlag : (byte)0;
                n++;
            }

            i += consumed;
        }

        nt.Length = CollapseSpacedLetters(chars, start, end, flags, n);
    }

    // Index of the first single letter followed by one to three separators and another single letter, or -1.
    private static int FirstSpacedRun(char[] chars, int n)
    {
        for (var i = 0; i < n; i++)
        {
            if (!IsSingleLetter(chars, n, i))
            {
                continue;
            }

            var k = i + 1;
            while (k < n && k - (i + 1) < MaxSeparatorRun && IsSeparator(chars[k]))
            {
                k++;
            }

            if (k > i + 1 && k < n && IsSingleLetter(chars, n, k))
            {
                return i;
            }
        }

        return -1;
    }

    internal static bool IsSeparator(char c) => c is ' ' or '\t' or '.' or '-' or '_' or '*' or '·';

    private static bool IsAsciiLetter(char c) => (uint)(c - 'A') <= 'Z' - 'A';

    private static bool IsWordChar(char c) => (uint)(c - 'A') <= 'Z' - 'A' || (uint)(c - '0') <= 9 || (c >= 0x80 && char.IsLetterOrDigit(c));

    private static bool IsSingleLetter(char[] chars, int n, int p) =>
        IsAsciiLetter(chars[p]) && (p == 0 || !IsWordChar(chars[p - 1])) && (p + 1 >= n || !IsWordChar(chars[p + 1]));

    // "S E C R E T", "S.E.C.R.E.T", "T.S." → "SECRET", "SECRET", "TS". A run needs two or more single letters,
    // each separated by one to three separator characters; a trailing dot of a dotted run is dropped too.
    private static int CollapseSpacedLetters(char[] chars, int[] start, int[] end, byte[] flags, int n)
    {
        // Nothing moves before the first run of spaced letters: find it without rewriting the arrays.
        var i = FirstSpacedRun(chars, n);
        if (i < 0)
        {
            return n;
        }

        var w = i;
        while (i < n)
        {
            if (IsSingleLetter(chars, n, i))
            {
                var last = i;
                var count = 1;
                var dotted = false;
                var j = i + 1;
                while (true)
                {
                    var k = j;
                    var sawDot = false;
                    while (k < n && k - j < MaxSeparatorRun && IsSeparator(chars[k]))
                    {
                        sawDot |= chars[k] == '.';
                        k++;
                    }

                    if (k == j || k >= n || !IsSingleLetter(chars, n, k))
                    {
                        break;
                    }

                    dotted |= sawDot;
                    count++;
                    last = k;
                    j = k + 1;
                }

                if (count >= 2)
                {
                    // Copy the letters only.
                    var p = i;
                    while (p <= last)
                    {
                        if (IsAsciiLetter(chars[p]))
                        {
                            chars[w] = chars[p];
                            start[w] = start[p];
                            end[w] = end[p];
                            flags[w] = flags[p];
                            w++;
                        }

                        p++;
                    }

                    i = last + 1;
                    if (dotted && i < n && chars[i] == '.')
                    {
                        end[w - 1] = end[i];
                        i++;
                    }

                    continue;
                }
            }

            chars[w] = chars[i];
            start[w] = start[i];
            end[w] = end[i];
            flags[w] = flags[i];
            w++;
            i++;
        }

        return w;
    }
}
