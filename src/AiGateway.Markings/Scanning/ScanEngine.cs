using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using AiGateway.Markings.Encoded;
using AiGateway.Markings.Matching;
using AiGateway.Markings.Normalization;

namespace AiGateway.Markings.Scanning;

/// <summary>
/// Finds candidate positions with vectorised searches over the raw text, then normalises and matches only the
/// lines (or bounded windows of very long lines) that hold a candidate. Candidates come from four searches:
/// '(' and '/' (portion marks, controls); upper-case banner words and their spaced forms; block labels (any case);
/// and any character the normaliser would change (non-ASCII look-alikes, invisible characters, '&amp;' references).
/// Clean ASCII prose therefore never reaches the normaliser, while every evasion form does.
/// </summary>
internal sealed class ScanEngine
{
    private const int MaxRegionLine = 4096;
    private const int WindowHalf = 256;
    private const int SnapLimit = 32;
    private const string DataUrlAnchor = "SE64,";

    private static readonly SearchValues<char> s_structural = SearchValues.Create("(/");

    private static readonly SearchValues<string> s_upperAnchors = SearchValues.Create(BuildUpperAnchors(), StringComparison.Ordinal);

    private static readonly SearchValues<string> s_labelAnchors = SearchValues.Create(
        // Tails of the labels, chosen so that their first letters are rare in English: the vectorised search
        // verifies fewer false starts ("con", "der", "for" would stop it constantly). "SE64," spots data URLs.
        ["SSIFIED BY", "SSIFICATION", "SSIFY ON", "RIVED FROM", "ROLLED BY", "CUI CAT", "DISSEMINATION CONTROL", "FICIAL USE",
            "POC:", "ENFORCEMENT SENS", "UNCLASSIFIED", DataUrlAnchor],
        StringComparison.OrdinalIgnoreCase);

    private static readonly SearchValues<char> s_plainAscii = SearchValues.Create(BuildPlainAscii());

    private static readonly SearchValues<char> s_base64OrLineBreak =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_\r\n");

    private readonly MarkingScanOptions _options;

    public ScanEngine(MarkingScanOptions options) => _options = options;

    public MarkingScanOptions Options => _options;

    /// <summary>Scans one text. <paramref name="startIsLineStart"/>/<paramref name="endIsLineEnd"/> say whether the text edges are line edges.</summary>
    public void Scan(ReadOnlySpan<char> text, bool startIsLineStart, bool endIsLineEnd, ref FindingSink sink, int depth)
    {
        var sawDataUrl = ScanCandidates(text, startIsLineStart, endIsLineEnd, ref sink);
        if (depth < _options.MaxBase64Depth && sink.DecodedBudget > 0 && text.Length >= 8)
        {
            ScanEncoded(text, sawDataUrl, ref sink, depth);
        }
    }

    /// <returns>Whether a data-URL anchor was seen.</returns>
    private static bool ScanCandidates(ReadOnlySpan<char> text, bool startIsLineStart, bool endIsLineEnd, ref FindingSink sink)
    {
        var n = text.Length;
        var sawDataUrl = false;
        int nextStructural = Find(text, 0, 0), nextUpper = Find(text, 0, 1), nextLabel = Find(text, 0, 2), nextSpecial = Find(text, 0, 3);
        var pos = 0;
        while (true)
        {
            if ((uint)nextStructural < (uint)pos)
            {
                nextStructural = Find(text, pos, 0);
            }

            if ((uint)nextUpper < (uint)pos)
            {
                nextUpper = Find(text, pos, 1);
            }

            if ((uint)nextLabel < (uint)pos)
            {
                nextLabel = Find(text, pos, 2);
            }

            if ((uint)nextSpecial < (uint)pos)
            {
                nextSpecial = Find(text, pos, 3);
            }

            // -1 compares as uint.MaxValue, so the minimum ignores exhausted searches.
            var c = (int)Math.Min(Math.Min((uint)nextStructural, (uint)nextUpper), Math.Min((uint)nextLabel, (uint)nextSpecial));
            if (c < 0)
            {
                return sawDataUrl;
            }

            var accept = (c == nextStructural && StructuralPrecheck(text, c, startIsLineStart))
                || c == nextUpper
                || (c == nextLabel && LabelPrecheck(text, c, startIsLineStart, ref sawDataUrl))
                || (c == nextSpecial && SpecialPrecheck(text, c));
            if (!accept)
            {
                if (c == nextStructural)
                {
                    nextStructural = Find(text, c + 1, 0);
                }

                if (c == nextLabel)
                {
                    nextLabel = Find(text, c + 1, 2);
                }

                if (c == nextSpecial)
                {
                    nextSpecial = Find(text, c + 1, 3);
                }

                continue;
            }

            var (rs, re, startReal, endReal) = RegionAround(text, c, startIsLineStart, endIsLineEnd);
            MatchRegion(text, rs, re, startReal, endReal, ref sink);
            pos = re < n && text[re] == '\n' ? re + 1 : re;
            if (pos >= n)
            {
                return sawDataUrl;
            }
        }
    }

    private static int Find(ReadOnlySpan<char> text, int from, int stream)
    {
        if (from >= text.Length)
        {
            return -1;
        }

        var s = text[from..];
        var k = stream switch
        {
            0 => s.IndexOfAny(s_structural),
            1 => s.IndexOfAny(s_upperAnchors),
            2 => s.IndexOfAny(s_labelAnchors),
            _ => s.IndexOfAnyExcept(s_plainAscii),
        };
        return k < 0 ? -1 : from + k;
    }

    private static bool StructuralPrecheck(ReadOnlySpan<char> text, int c, bool startIsLineStart)
    {
        if (text[c] == '(')
        {
            return IsLineContentStart(text, c, startIsLineStart);
        }

        // "//" or "/ /", but not the "://" of a URL.
        var n = text.Length;
        return c + 1 < n
            && (text[c + 1] == '/' || (text[c + 1] == ' ' && c + 2 < n && text[c + 2] == '/'))
            && (c == 0 || text[c - 1] != ':');
    }

    private static bool LabelPrecheck(ReadOnlySpan<char> text, int c, bool startIsLineStart, ref bool sawDataUrl)
    {
        if (text[c..].StartsWith(DataUrlAnchor, StringComparison.OrdinalIgnoreCase))
        {
            sawDataUrl = true;
            return false;
        }

        // Upper-case anywhere (legacy phrases), or the label's words are all that precede the anchor on its line.
        if (c + 1 < text.Length && char.IsAsciiLetterUpper(text[c]) && char.IsAsciiLetterUpper(text[c + 1]))
        {
            return true;
        }

        var j = c - 1;
        for (var budget = 64; budget > 0; budget--, j--)
        {
            if (j < 0)
            {
                return startIsLineStart;
            }

            var ch = text[j];
            if (ch is '\n' or '\r')
            {
                return true;
            }

            if (!(char.IsAsciiLetterOrDigit(ch) || ch is ' ' or '\t' or '-' or '*' or '+' or '>' or '#' or '.' or ')' or '|' or '_' || ch >= 0x80))
            {
                return false;
            }
        }

        return false;
    }

    private static bool SpecialPrecheck(ReadOnlySpan<char> text, int c)
    {
        var ch = text[c];
        return ch == '&'
            ? HtmlEntities.LooksLikeReference(text[c..Math.Min(text.Length, c + 24)])
            : CharFolding.IsRelevant(ch);
    }

    /// <summary>Raw-text check: only whitespace, bullets or a short enumerator lie between the line start and <paramref name="c"/>.</summary>
    private static bool IsLineContentStart(ReadOnlySpan<char> text, int c, bool startIsLineStart)
    {
        var j = c - 1;
        for (var budget = 24; budget > 0; budget--, j--)
        {
            if (j < 0)
            {
                return startIsLineStart;
            }

            var ch = text[j];
            if (ch is '\n' or '\r')
            {
                return true;
            }

            if (ch is ' ' or '\t' or '-' or '*' or '+' or '>' or '#' or '.' or ')' or '|' || char.IsAsciiDigit(ch) || ch >= 0x80)
            {
                continue;
            }

            if (char.IsAsciiLetter(ch) && text[j + 1] is '.' or ')' || (char.IsAsciiLetter(ch) && char.IsAsciiLetter(text[j + 1]) && j + 2 < c && text[j + 2] is '.' or ')'))
            {
                continue;
            }

            return false;
        }

        return false;
    }

    private static (int Start, int End, bool StartReal, bool EndReal) RegionAround(ReadOnlySpan<char> text, int c, bool startIsLineStart, bool endIsLineEnd)
    {
        var n = text.Length;
        var backFrom = Math.Max(0, c - MaxRegionLine);
        var k = text[backFrom..c].LastIndexOf('\n');
        var ls = k >= 0 ? backFrom + k + 1 : backFrom == 0 ? 0 : -1;
        var forwardTo = Math.Min(n, c + MaxRegionLine);
        k = text[c..forwardTo].IndexOf('\n');
        var le = k >= 0 ? c + k : forwardTo == n ? n : -1;

        int rs, re;
        bool startReal, endReal;
        if (ls >= 0)
        {
            rs = ls;
            startReal = ls > 0 || startIsLineStart;
        }
        else
        {
            // Very long line: a window around the candidate, starting after a space where one is near.
            rs = c - WindowHalf;
            var sp = text[rs..Math.Min(c, rs + SnapLimit)].IndexOfAny(' ', '\t');
            if (sp >= 0)
            {
                rs += sp + 1;
            }

            startReal = false;
        }

        if (le >= 0)
        {
            re = le;
            endReal = le < n || endIsLineEnd;
        }
        else
        {
            re = c + WindowHalf;
            var sp = text[Math.Max(c + 1, re - SnapLimit)..re].LastIndexOfAny(' ', '\t');
            if (sp >= 0)
            {
                re = Math.Max(c + 1, re - SnapLimit) + sp;
            }

            endReal = false;
        }

        return (rs, re, startReal, endReal);
    }

    private static void MatchRegion(ReadOnlySpan<char> text, int rs, int re, bool startReal, bool endReal, ref FindingSink sink)
    {
        if (!RegionFilter.MayContainMarking(text[rs..re], startReal, endReal))
        {
            return;
        }

        var nt = NormalizedText.Rent(re - rs);
        try
        {
            TextNormalizer.Normalize(text[rs..re], rs, ref nt);
            new RegionMatcher(nt, text, startReal, endReal, ref sink).Run();
        }
        finally
        {
            nt.Dispose();
        }
    }

    // Base64: a text that is wholly base64, data-URL payloads ("…;base64,…"), and long base64 runs embedded in
    // text. Runs are found 8 characters at a time: a run of 23+ characters always fills two consecutive
    // 8-character windows whose characters all lie in '+'..'z', while ordinary prose windows contain a space.
    private void ScanEncoded(ReadOnlySpan<char> text, bool sawDataUrl, ref FindingSink sink, int depth)
    {
        var trimmed = text.Trim();
        if (trimmed.Length >= 8 && trimmed.IndexOfAnyExcept(s_base64OrLineBreak) < 0)
        {
            var offset = text.Length - text.TrimStart().Length;
            DecodeAndScan(text, offset, offset + trimmed.Length, ref sink, depth);
            return;
        }

        var minRun = Math.Max(8, _options.MinEmbeddedBase64Length);
        var lastRunEnd = 0;
        var from = 0;
        while (sawDataUrl && from < text.Length)
        {
            var k = text[from..].IndexOf("base64,", StringComparison.OrdinalIgnoreCase);
            if (k < 0)
            {
                break;
            }

            var s = from + k + 7;
            var e = s;
            while (e < text.Length && Base64Text.IsBase64Char(text[e]))
            {
                e++;
            }

            if (e - s >= 8)
            {
                DecodeAndScan(text, s, e, ref sink, depth);
                lastRunEnd = e;
            }

            from = Math.Max(e, s);
        }

        ref var r0 = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(text));
        var n = text.Length;
        var i = 0;
        var low = Vector128.Create((ushort)'+');
        var span = Vector128.Create((ushort)('z' - '+'));
        var previousInRange = false;
        while (i + 8 <= n)
        {
            bool inRange;
            if (Vector128.IsHardwareAccelerated)
            {
                var v = Vector128.LoadUnsafe(ref r0, (nuint)i);
                inRange = !Vector128.GreaterThanAny(v - low, span);
            }
            else
            {
                inRange = AllInRange(text.Slice(i, 8));
            }

            // Two windows in a row: a run of 23+ characters always fills two consecutive windows, ordinary long words do not.
            if (!inRange || !previousInRange)
            {
                previousInRange = inRange;
                i += 8;
                continue;
            }

            previousInRange = false;
            i -= 8;
            var j = i;
            while (j < i + 8 && !Base64Text.IsBase64Char(text[j]))
            {
                j++;
            }

            if (j == i + 8)
            {
                i += 8;
                continue;
            }

            var s = j;
            while (s > lastRunEnd && Base64Text.IsBase64Char(text[s - 1]))
            {
                s--;
            }

            var e = j;
            while (e < n && Base64Text.IsBase64Char(text[e]))
            {
                e++;
            }

            if (e - s >= minRun && s >= lastRunEnd && LooksEncoded(text[s..e]))
            {
                DecodeAndScan(text, s, e, ref sink, depth);
            }

            lastRunEnd = e;
            i = Math.Max(i + 8, e);
        }
    }

    private static bool AllInRange(ReadOnlySpan<char> s)
    {
        foreach (var ch in s)
        {
            if ((uint)(ch - '+') > 'z' - '+')
            {
                return false;
            }
        }

        return true;
    }

    // Long words, paths and hex digests are base64-alphabet runs too; base64 of text mixes cases and digits.
    private static bool LooksEncoded(ReadOnlySpan<char> run)
    {
        var upper = 0;
        var lower = 0;
        foreach (var ch in run)
        {
            if (char.IsAsciiLetterUpper(ch))
            {
                upper++;
            }
            else if (char.IsAsciiLetterLower(ch))
            {
                lower++;
            }
        }

        return upper > 0 && lower > 0 || (upper > 0 && run.Length - upper > 0);
    }

    private void DecodeAndScan(ReadOnlySpan<char> text, int s, int e, ref FindingSink sink, int depth)
    {
        var budget = sink.DecodedBudget;
        if (budget <= 0)
        {
            return;
        }

        var chars = text[s..e];
        var maxChars = (int)Math.Min(chars.Length, ((long)budget + 2) / 3 * 4 + 4);
        chars = chars[..maxChars];
        var bytes = ArrayPool<byte>.Shared.Rent(chars.Length * 3 / 4 + 4);
        char[]? decoded = null;
        try
        {
            var nb = Base64Text.Decode(chars, bytes);
            if (nb < 4)
            {
                return;
            }

            var utf16 = nb >= 4 && bytes[1] == 0 && bytes[3] == 0 && bytes[0] != 0;
            var encoding = utf16 ? Encoding.Unicode : Encoding.UTF8;
            decoded = ArrayPool<char>.Shared.Rent(encoding.GetMaxCharCount(nb));
            var nc = Math.Min(encoding.GetChars(bytes, 0, nb, decoded, 0), budget);
            var inner = decoded.AsSpan(0, nc);
            if (!LooksLikeText(inner))
            {
                return;
            }

            sink.DecodedBudget = budget - nc;
            var innerSink = new FindingSink(sink.Segment, sink.DecodedBudget);
            Scan(inner, startIsLineStart: true, endIsLineEnd: true, ref innerSink, depth + 1);
            sink.DecodedBudget = innerSink.DecodedBudget;
            if (innerSink.Findings is null)
            {
                return;
            }

            // One finding per kind and level for the encoded run; the positions inside the decoded text have no original offsets.
            var seen = 0UL;
            foreach (var f in innerSink.Findings)
            {
                var bit = 1UL << ((int)f.Kind * 5 + (int)f.Level);
                if ((seen & bit) != 0)
                {
                    continue;
                }

                seen |= bit;
                sink.AddOutOfOrder(new MarkingFinding(f.Kind, f.Level, sink.Segment, s, e - s) { InDecodedContent = true });
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            if (decoded is not null)
            {
                ArrayPool<char>.Shared.Return(decoded);
            }
        }
    }

    private static bool LooksLikeText(ReadOnlySpan<char> s)
    {
        if (s.Length < 2)
        {
            return false;
        }

        var bad = 0;
        foreach (var ch in s)
        {
            if ((ch < 0x20 && ch is not ('\t' or '\n' or '\r')) || ch == '\uFFFD' || ch is >= '\u007F' and < '\u00A0')
            {
                bad++;
            }
        }

        return bad * 20 <= s.Length;
    }

    private static string[] BuildUpperAnchors()
    {
        // "1.4" anchors "Reason: 1.4(c)": searching for the word "reason" in any case would stop at every use of it in prose.
        var anchors = new List<string> { "SECRET", "CONFIDENTIAL", "UNCLASSIFIED", "CUI", "CONTROLLED", "RESTRICTED", "OFFICIAL USE", "LAW ENFORCEMENT", "1.4" };

        // Spaced or dotted upper-case banner words ("S E C R E T", "C.U.I"): the first two letters with a separator.
        string[] pairs = ["SE", "TO", "CO", "UN", "CU", "NA", "FO", "LA", "LI"];
        string[] separators = [" ", "  ", ".", ". ", "-", "_", "*", "\t"];
        foreach (var pair in pairs)
        {
            foreach (var sep in separators)
            {
                anchors.Add(pair[0] + sep + pair[1]);
            }
        }

        return [.. anchors];
    }

    private static string BuildPlainAscii()
    {
        var sb = new StringBuilder(127);
        for (var c = (char)0; c < 0x80; c++)
        {
            if (c != '&')
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
