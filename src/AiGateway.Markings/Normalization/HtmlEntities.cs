using System.Collections.Frozen;

namespace AiGateway.Markings.Normalization;

/// <summary>Decodes one HTML character reference (<c>&amp;#83;</c>, <c>&amp;#x53;</c>, <c>&amp;sol;</c>) at the start of a span.</summary>
internal static class HtmlEntities
{
    private const int MaxNameLength = 10;

    // The named references that can build or hide marking structure; letters have no short named form.
    private static readonly FrozenDictionary<string, int> s_named = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["sol"] = '/', ["frasl"] = '/', ["bsol"] = '\\', ["lpar"] = '(', ["rpar"] = ')', ["colon"] = ':',
        ["comma"] = ',', ["period"] = '.', ["hyphen"] = '-', ["dash"] = '-', ["ndash"] = '-', ["mdash"] = '-',
        ["minus"] = '-', ["lowbar"] = '_', ["ast"] = '*', ["num"] = '#', ["semi"] = ';', ["excl"] = '!',
        ["quest"] = '?', ["plus"] = '+', ["equals"] = '=', ["lsqb"] = '[', ["rsqb"] = ']', ["lbrack"] = '[',
        ["rbrack"] = ']', ["amp"] = '&', ["lt"] = '<', ["gt"] = '>', ["quot"] = '"', ["apos"] = '\'',
        ["nbsp"] = 0xA0, ["ensp"] = 0x2002, ["emsp"] = 0x2003, ["thinsp"] = 0x2009, ["hairsp"] = 0x200A,
        ["Tab"] = '\t', ["NewLine"] = '\n', ["zwj"] = 0x200D, ["zwnj"] = 0x200C, ["shy"] = 0xAD,
        ["ZeroWidthSpace"] = 0x200B, ["NoBreak"] = 0x2060, ["InvisibleTimes"] = 0x2062, ["InvisibleComma"] = 0x2063,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> s_lookup =
        s_named.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Tries to decode a reference starting with '&amp;' at <paramref name="s"/>[0].</summary>
    public static bool TryDecode(ReadOnlySpan<char> s, out int codePoint, out int consumed)
    {
        codePoint = 0;
        consumed = 0;
        if (s.Length < 3 || s[0] != '&')
        {
            return false;
        }

        if (s[1] == '#')
        {
            var i = 2;
            var hex = i < s.Length && (s[i] | 0x20) == 'x';
            if (hex)
            {
                i++;
            }

            var start = i;
            long value = 0;
            while (i < s.Length && i - start < 8)
            {
                var d = HexValue(s[i]);
                if (d < 0 || (!hex && d > 9))
                {
                    break;
                }

                value = value * (hex ? 16 : 10) + d;
                i++;
            }

            if (i == start || value > 0x10FFFF)
            {
                return false;
            }

            if (i < s.Length && s[i] == ';')
            {
                i++;
            }

            codePoint = value == 0 ? 0xFFFD : (int)value;
            consumed = i;
            return true;
        }

        var end = 1;
        while (end < s.Length && end <= MaxNameLength && char.IsAsciiLetterOrDigit(s[end]))
        {
            end++;
        }

        if (end == 1 || end >= s.Length || s[end] != ';')
        {
            return false;
        }

        if (!s_lookup.TryGetValue(s[1..end], out codePoint))
        {
            return false;
        }

        consumed = end + 1;
        return true;
    }

    /// <summary>Cheap check on raw text: could the '&amp;' at <paramref name="s"/>[0] start a reference?</summary>
    public static bool LooksLikeReference(ReadOnlySpan<char> s) => TryDecode(s, out _, out _);

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
