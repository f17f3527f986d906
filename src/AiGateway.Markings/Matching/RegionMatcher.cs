using System.Collections.Frozen;
using AiGateway.Markings.Normalization;

namespace AiGateway.Markings.Matching;

/// <summary>
/// Applies the structural marking rules to one normalised region (one or more whole lines, or a window of a very
/// long line). Every rule looks at a bounded number of characters from a given position and the word loop never
/// moves backwards, so a region is matched in linear time.
/// </summary>
internal ref struct RegionMatcher
{
    private const int MaxSpaces = 3;

    // Country trigraphs/tetragraphs that may open a foreign or joint marking ("//GBR SECRET").
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> s_countries = new[]
    {
        "USA", "GBR", "CAN", "AUS", "NZL", "DEU", "FRA", "ITA", "ESP", "NLD", "BEL", "NOR", "DNK", "SWE", "FIN",
        "POL", "JPN", "KOR", "ISR", "TUR", "GRC", "PRT", "CZE", "HUN", "ROU", "BGR", "SVK", "SVN", "HRV", "EST",
        "LVA", "LTU", "LUX", "ISL", "ALB", "MNE", "MKD", "UKR", "IND", "SGP", "IRL", "AUT", "CHE", "MEX", "BRA",
        "FVEY", "ACGU", "NATO", "ISAF", "KFOR", "EUDA", "TEYE",
    }.ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private readonly ReadOnlySpan<char> _c;
    private readonly ReadOnlySpan<byte> _f;
    private readonly ReadOnlySpan<int> _start;
    private readonly ReadOnlySpan<int> _end;
    private readonly ReadOnlySpan<char> _original;
    private readonly bool _firstLineStartReal;
    private readonly bool _lastLineEndReal;
    private ref FindingSink _sink;

    public RegionMatcher(in NormalizedText nt, ReadOnlySpan<char> original, bool firstLineStartReal, bool lastLineEndReal, ref FindingSink sink)
    {
        _c = nt.Chars.AsSpan(0, nt.Length);
        _f = nt.Flags.AsSpan(0, nt.Length);
        _start = nt.Start.AsSpan(0, nt.Length);
        _end = nt.End.AsSpan(0, nt.Length);
        _original = original;
        _firstLineStartReal = firstLineStartReal;
        _lastLineEndReal = lastLineEndReal;
        _sink = ref sink;
    }

    public void Run()
    {
        var n = _c.Length;
        var a = 0;
        while (true)
        {
            var nl = _c[a..].IndexOf('\n');
            var b = nl < 0 ? n : a + nl;
            MatchLine(a, b, a > 0 || _firstLineStartReal, b < n || _lastLineEndReal);
            if (b >= n)
            {
                return;
            }

            a = b + 1;
        }
    }

    private void MatchLine(int a, int b, bool startReal, bool endReal)
    {
        if (a >= b)
        {
            return;
        }

        var scanFrom = a;
        if (startReal)
        {
            var cs = ContentStart(a, b);
            int after;
            if (cs < b && _c[cs] == '(' && TryPortion(cs, b, out after))
            {
                scanFrom = after;
            }
            else if (cs < b && TryLabel(cs, b, out after))
            {
                scanFrom = after;
            }
            else if (endReal && TryBareBanner(a, b))
            {
                return;
            }
        }

        ScanAnywhere(scanFrom, b, a);
    }

    // Markings that count anywhere in a line: a classification followed by "//" controls, a foreign or joint
    // marking opened by "//", and an upper-case legacy control phrase.
    private void ScanAnywhere(int from, int b, int lineStart)
    {
        var q = from;
        while (q < b)
        {
            var ch = _c[q];
            if (ch == '/')
            {
                if (q + 1 < b && _c[q + 1] == '/' && (q == lineStart || IsSpace(_c[q - 1]) || _c[q - 1] is '(' or '[' or '"' or '\'')
                    && TryForeign(q, b, out var fa))
                {
                    q = fa;
                    continue;
                }

                q++;
                continue;
            }

            if (IsUpper(ch) && (q == lineStart || !IsWordChar(_c[q - 1])))
            {
                if (TryBannerWithControls(q, b, out var after) || TryUpperLegacy(q, b, out after))
                {
                    q = after;
                    continue;
                }

                q++;
                while (q < b && IsWordChar(_c[q]))
                {
                    q++;
                }

                continue;
            }

            q++;
        }
    }

    private bool TryBannerWithControls(int q, int b, out int after)
    {
        after = q;
        // A classification that is not upper-case needs "//" right after it and a known control word ("Secret//NoForn"),
        // so prose and code comments ("confidential // TODO") do not match.
        if (!TryPhrase(q, b, MarkingVocabulary.Classifications, out var phrase, out var pe)
            || !TryControls(pe, b, out var ce, out var cui, strict: !AllUpper(q, pe)))
        {
            return false;
        }

        Add(phrase.Kind, Upgrade(phrase.Level, cui), q, ce);
        after = ce;
        return true;
    }

    private bool TryUpperLegacy(int q, int b, out int after)
    {
        after = q;
        if (!TryPhrase(q, b, MarkingVocabulary.Legacy, out var phrase, out var pe) || !AllUpper(q, pe))
        {
            return false;
        }

        Add(phrase.Kind, phrase.Level, q, pe);
        after = pe;
        return true;
    }

    // A whole line that is only a banner (upper-case classification or CUI word, or a legacy control phrase in any
    // case), optionally with "//" controls and decoration such as "**", "#", "---".
    private bool TryBareBanner(int a, int b)
    {
        var p = SkipDecoration(a, b);
        if (p >= b)
        {
            return false;
        }

        MarkingVocabulary.Phrase phrase;
        int pe;
        if (TryPhrase(p, b, MarkingVocabulary.Classifications, out phrase, out pe))
        {
            if (!AllUpper(p, pe))
            {
                return false;
            }
        }
        else if (!TryPhrase(p, b, MarkingVocabulary.Legacy, out phrase, out pe))
        {
            return false;
        }

        var end = pe;
        var level = phrase.Level;
        if (TryControls(pe, b, out var ce, out var cui))
        {
            end = ce;
            level = Upgrade(level, cui);
        }

        if (SkipDecoration(end, b) != b)
        {
            return false;
        }

        Add(phrase.Kind, level, p, end);
        return true;
    }

    // "//GBR SECRET", "//JOINT SECRET CAN GBR USA", "//NATO SECRET", "//COSMIC TOP SECRET".
    private bool TryForeign(int q, int b, out int after)
    {
        after = q;
        var p = SkipSpaces(q + 2, b, 1);
        MarkingKind kind;
        MarkingLevel level;
        int end;
        if (TryPhrase(p, b, MarkingVocabulary.Classifications, out var nato, out var ne) && nato.Kind == MarkingKind.Nato)
        {
            kind = MarkingKind.Nato;
            level = nato.Level;
            end = ne;
        }
        else
        {
            var joint = MatchPhrase(p, b, "JOINT", out var je) && AllUpper(p, je);
            if (joint)
            {
                p = SkipSpaces(je, b, MaxSpaces);
            }
            else
            {
                var te = CountryEnd(p, b);
                if (te < 0)
                {
                    return false;
                }

                p = SkipSpaces(te, b, MaxSpaces);
            }

            if (!TryPhrase(p, b, MarkingVocabulary.ForeignClassifications, out var foreign, out end))
            {
                return false;
            }

            kind = MarkingKind.ForeignOrJoint;
            level = foreign.Level;
            if (joint)
            {
                end = SkipCountryList(end, b);
            }
        }

        if (TryControls(end, b, out var ce, out var cui))
        {
            end = ce;
            level = Upgrade(level, cui);
        }

        Add(kind, level, q, end);
        after = end;
        return true;
    }

    // "(S)", "(TS//SCI)", "(C//REL TO USA, AUS)", "(U//FOUO)", "(CUI//SP-PRVCY)", "(//GBR S)", "(//JOINT S GBR USA)".
    private bool TryPortion(int cs, int b, out int after)
    {
        after = cs;
        var p = SkipSpaces(cs + 1, b, 1);
        var foreign = false;
        var joint = false;
        var hasSlash = false;
        if (DoubleSlash(p, b, out var s))
        {
            foreign = true;
            hasSlash = true;
            p = SkipSpaces(s, b, 1);
            if (MatchPhrase(p, b, "JOINT", out var je))
            {
                joint = true;
                p = SkipSpaces(je, b, MaxSpaces);
            }
            else
            {
                var te = CountryEnd(p, b);
                if (te >= 0 && te < b && IsSpace(_c[te]))
                {
                    p = SkipSpaces(te, b, MaxSpaces);
                }
            }
        }

        MarkingVocabulary.Phrase abbr = default;
        var ae = -1;
        foreach (var candidate in MarkingVocabulary.PortionAbbreviations)
        {
            if (candidate.Text[0] == _c[p < b ? p : b - 1] && (candidate.Text != "R" || foreign) && MatchPhrase(p, b, candidate.Text, out ae))
            {
                abbr = candidate;
                break;
            }

            ae = -1;
        }

        if (ae < 0)
        {
            return false;
        }

        p = joint ? SkipCountryList(ae, b) : ae;
        p = SkipSpaces(p, b, MaxSpaces);
        var cui = false;
        while (DoubleSlash(p, b, out s))
        {
            hasSlash = true;
            p = SkipSpaces(s, b, MaxSpaces);
            var te = ParseControlToken(p, b, out _, out var tokenCui, out _);
            if (te == p)
            {
                break;
            }

            cui |= tokenCui;
            p = SkipSpaces(te, b, MaxSpaces);
        }

        if (p >= b || _c[p] != ')')
        {
            return false;
        }

        var end = p + 1;
        if (end < b && IsWordChar(_c[end]))
        {
            return false;
        }

        if (!hasSlash && !AllUpper(cs, end))
        {
            return false;
        }

        var single = abbr.Text.Length == 1 && !hasSlash;
        if (single && abbr.Text[0] == 'C' && LooksLikeCopyright(end, b))
        {
            return false;
        }

        if (single && IsEnumeratorSequence(cs, abbr.Text[0]))
        {
            return false;
        }

        var kind = foreign ? MarkingKind.ForeignOrJoint : MarkingKind.PortionMark;
        Add(kind, Upgrade(abbr.Level, cui), cs, end);
        after = end;
        return true;
    }

    // "Classified By: …", "Derived From: …", "Declassify On: …", "Reason: 1.4(c)", "Classification: SECRET",
    // "Controlled by: …", "CUI Category: …", "Limited Dissemination Control: …", "POC: …" (only right after a designation line).
    private bool TryLabel(int cs, int b, out int after)
    {
        after = cs;
        var c0 = _c[cs];
        foreach (var label in MarkingVocabulary.Labels)
        {
            if (label.Text[0] != c0 || !MatchPhrase(cs, b, label.Text, out var le))
            {
                continue;
            }

            var q = SkipSpaces(le, b, MaxSpaces);
            if (q >= b || _c[q] != ':')
            {
                continue;
            }

            q = SkipSpaces(q + 1, b, 16);
            var valueEnd = TrimEnd(q, b);
            if (valueEnd <= q)
            {
                continue;
            }

            var kind = label.Kind;
            var level = label.Level;
            switch (label.Value)
            {
                case MarkingVocabulary.LabelValue.Reason14:
                    if (!(q + 2 < b && _c[q] == '1' && _c[q + 1] == '.' && _c[q + 2] == '4'))
                    {
                        continue;
                    }

                    break;
                case MarkingVocabulary.LabelValue.Classification:
                    if (!TryPhrase(q, b, MarkingVocabulary.Classifications, out var phrase, out var pe))
                    {
                        continue;
                    }

                    kind = phrase.Kind;
                    level = phrase.Level;
                    if (TryControls(pe, b, out _, out var cui))
                    {
                        level = Upgrade(level, cui);
                    }

                    break;
                case MarkingVocabulary.LabelValue.AfterDesignation:
                    if (!FollowsDesignationLine(cs))
                    {
                        continue;
                    }

                    break;
            }

            Add(kind, level, cs, valueEnd);
            if (kind == MarkingKind.CuiDesignationBlock)
            {
                _sink.LastDesignationLineEnd = _end[valueEnd - 1];
            }

            after = valueEnd;
            return true;
        }

        return false;
    }

    private readonly bool FollowsDesignationLine(int cs)
    {
        var last = _sink.LastDesignationLineEnd;
        var here = _start[cs];
        if (last < 0 || last > here || here - last > 256)
        {
            return false;
        }

        var between = _original[last..here];
        return between.Contains('\n') && between.IndexOfAnyExcept(" \t\r\n-*•") < 0;
    }

    // After "//": one or more control markings separated by "//". The first must be a known control word or an
    // upper-case token, so "secret//path" in prose is not a marking but "Secret//NoForn" is.
    private readonly bool TryControls(int p, int b, out int end, out bool cui, bool strict = false)
    {
        end = p;
        cui = false;
        var q = strict ? p : SkipSpaces(p, b, MaxSpaces);
        if (!DoubleSlash(q, b, out var s) || (strict && s != q + 2))
        {
            return false;
        }

        var first = true;
        while (true)
        {
            q = strict && first ? s : SkipSpaces(s, b, MaxSpaces);
            var te = ParseControlToken(q, b, out var valid, out var tokenCui, out var known);
            if (te == q)
            {
                if (first)
                {
                    return false;
                }

                break;
            }

            if (first && (!valid || (strict && !known)))
            {
                return false;
            }

            cui |= tokenCui;
            end = te;
            first = false;
            q = SkipSpaces(te, b, MaxSpaces);
            if (!DoubleSlash(q, b, out s))
            {
                break;
            }
        }

        return true;
    }

    // One control marking: a word ("NOFORN", "SI-G", "SAR-BP", "SI/TK") and continuation words that are upper-case
    // in the original ("REL TO USA, GBR", "FED ONLY", "SI-G ABCD"). Bounded length.
    private readonly int ParseControlToken(int q, int b, out bool valid, out bool cui, out bool known)
    {
        valid = false;
        cui = false;
        known = false;
        var w0 = q;
        var we = WordEnd(q, b);
        if (we == w0)
        {
            return q;
        }

        var word = _c[w0..we];
        var headLength = word.IndexOfAny('-', '/');
        var head = headLength < 0 ? word : word[..headLength];
        var upper = AllUpper(w0, we);
        known = MarkingVocabulary.IsControlWord(head);
        valid = (known && (head.Length >= 3 || word.Length >= 5 || upper)) || (upper && we - w0 >= 2);
        cui = MarkingVocabulary.IsCuiControlWord(head);
        var relTo = head.SequenceEqual("REL");
        var te = we;
        for (var words = 0; words < 16 && te - w0 < 96; words++)
        {
            var r = te;
            if (r < b && _c[r] == ',')
            {
                r++;
            }

            if (r < b && _c[r] == ' ')
            {
                r++;
            }

            if (r == te)
            {
                break;
            }

            var ws = r;
            r = WordEnd(r, b);
            if (r == ws || !(relTo || AllUpper(ws, r)))
            {
                break;
            }

            te = r;
        }

        return te;
    }

    private readonly int WordEnd(int q, int b)
    {
        while (q < b)
        {
            var ch = _c[q];
            if (IsUpper(ch) || IsDigit(ch))
            {
                q++;
            }
            else if (ch is '-' or '/' && q + 1 < b && (IsUpper(_c[q + 1]) || IsDigit(_c[q + 1])))
            {
                q++;
            }
            else
            {
                break;
            }
        }

        return q;
    }

    private readonly bool TryPhrase(int p, int b, MarkingVocabulary.Phrase[] table, out MarkingVocabulary.Phrase phrase, out int after)
    {
        if (p < b && MarkingVocabulary.MayStartPhrase(table, _c[p]))
        {
            var c0 = _c[p];
            foreach (var candidate in table)
            {
                if (candidate.Text[0] == c0 && MatchPhrase(p, b, candidate.Text, out after))
                {
                    phrase = candidate;
                    return true;
                }
            }
        }

        phrase = default;
        after = p;
        return false;
    }

    // Matches an upper-case phrase whose words may be separated by one to three spaces, ending at a word boundary.
    private readonly bool MatchPhrase(int p, int b, string text, out int after)
    {
        after = p;
        var q = p;
        foreach (var ch in text)
        {
            if (ch == ' ')
            {
                var s = q;
                while (q < b && q - s < MaxSpaces && IsSpace(_c[q]))
                {
                    q++;
                }

                if (q == s)
                {
                    return false;
                }
            }
            else
            {
                if (q >= b || _c[q] != ch)
                {
                    return false;
                }

                q++;
            }
        }

        if (q < b && IsWordChar(_c[q]))
        {
            return false;
        }

        after = q;
        return true;
    }

    private readonly int CountryEnd(int p, int b)
    {
        var e = p;
        while (e < b && e - p < 4 && IsUpper(_c[e]))
        {
            e++;
        }

        if (e - p < 3 || (e < b && IsWordChar(_c[e])) || !s_countries.Contains(_c[p..e]) || !AllUpper(p, e))
        {
            return -1;
        }

        return e;
    }

    private readonly int SkipCountryList(int p, int b)
    {
        var end = p;
        for (var i = 0; i < 32; i++)
        {
            var q = end;
            if (q < b && _c[q] == ',')
            {
                q++;
            }

            q = SkipSpaces(q, b, MaxSpaces);
            if (q == end)
            {
                break;
            }

            var e = CountryEnd(q, b);
            if (e < 0)
            {
                break;
            }

            end = e;
        }

        return end;
    }

    private readonly bool LooksLikeCopyright(int end, int b)
    {
        var q = SkipSpaces(end, b, MaxSpaces);
        if (q < b && (IsDigit(_c[q]) || _c[q] == '©'))
        {
            return true;
        }

        var rest = _c[q..Math.Min(b, q + 160)];
        if (rest.IndexOf("COPYRIGHT", StringComparison.Ordinal) >= 0 || rest.IndexOf("RIGHTS RESERVED", StringComparison.Ordinal) >= 0)
        {
            return true;
        }

        for (var i = 0; i + 4 <= rest.Length; i++)
        {
            if ((rest[i] == '1' && rest[i + 1] == '9' || rest[i] == '2' && rest[i + 1] == '0') && IsDigit(rest[i + 2]) && IsDigit(rest[i + 3])
                && (i == 0 || !IsWordChar(rest[i - 1])) && (i + 4 == rest.Length || !IsWordChar(rest[i + 4])))
            {
                return true;
            }
        }

        return false;
    }

    // "(A) …\n(B) …\n(C) …" is a list, not a CONFIDENTIAL portion: a single-letter mark whose neighbouring line
    // starts with the previous or next letter in parentheses is an enumerator.
    private readonly bool IsEnumeratorSequence(int cs, char letter)
    {
        var o = _start[cs];
        var lineStart = _original[..o].LastIndexOf('\n') + 1;
        if (lineStart > 0)
        {
            var e = lineStart - 1;
            var limit = Math.Max(0, e - 4096);
            while (e > limit && _original[e - 1] is '\n' or '\r' or ' ' or '\t')
            {
                e--;
            }

            var ps = _original[limit..e].LastIndexOf('\n') + 1 + limit;
            if (StartsWithEnumerator(_original[ps..e], (char)(letter - 1)))
            {
                return true;
            }
        }

        var nl = _original[o..Math.Min(_original.Length, o + 4096)].IndexOf('\n');
        if (nl >= 0)
        {
            var ns = o + nl + 1;
            while (ns < _original.Length && _original[ns] is '\n' or '\r' or ' ' or '\t')
            {
                ns++;
            }

            var ne = Math.Min(_original.Length, ns + 16);
            if (StartsWithEnumerator(_original[ns..ne], (char)(letter + 1)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool StartsWithEnumerator(ReadOnlySpan<char> line, char letter)
    {
        var t = line.TrimStart(" \t-*+•>");
        return t.Length >= 3 && t[0] == '(' && char.ToUpperInvariant(t[1]) == letter && t[2] == ')';
    }

    private readonly int ContentStart(int a, int b)
    {
        var p = SkipSpaces(a, b, int.MaxValue);
        for (var k = 0; k < 4 && p < b; k++)
        {
            var q = p;
            while (q < b && IsBullet(_c[q]))
            {
                q++;
            }

            if (q > p)
            {
                p = SkipSpaces(q, b, int.MaxValue);
                continue;
            }

            var e = q;
            while (e < b && e - q < 4 && (IsDigit(_c[e]) || IsUpper(_c[e])))
            {
                e++;
            }

            if (e > q && e + 1 < b && _c[e] is '.' or ')' && IsSpace(_c[e + 1]))
            {
                p = SkipSpaces(e + 1, b, int.MaxValue);
                continue;
            }

            break;
        }

        return p;
    }

    private readonly int SkipDecoration(int p, int b)
    {
        while (p < b && (IsSpace(_c[p]) || _c[p] is '*' or '=' or '#' or '_' or '~' or '-' or '>' or '|'))
        {
            p++;
        }

        return p;
    }

    private readonly int SkipSpaces(int p, int b, int max)
    {
        var s = p;
        while (p < b && p - s < max && IsSpace(_c[p]))
        {
            p++;
        }

        return p;
    }

    private readonly int TrimEnd(int q, int b)
    {
        while (b > q && IsSpace(_c[b - 1]))
        {
            b--;
        }

        return b;
    }

    private readonly bool DoubleSlash(int q, int b, out int after)
    {
        if (q + 1 < b && _c[q] == '/')
        {
            if (_c[q + 1] == '/')
            {
                after = q + 2;
                return true;
            }

            if (q + 2 < b && _c[q + 1] == ' ' && _c[q + 2] == '/')
            {
                after = q + 3;
                return true;
            }
        }

        after = q;
        return false;
    }

    private readonly bool AllUpper(int a, int e) => _f[a..e].IndexOf(NormalizedText.LowerFlag) < 0;

    private void Add(MarkingKind kind, MarkingLevel level, int a, int e)
    {
        var offset = _start[a];
        _sink.Add(kind, level, offset, _end[e - 1] - offset);
    }

    private static MarkingLevel Upgrade(MarkingLevel level, bool cuiControl) =>
        level == MarkingLevel.Unclassified && cuiControl ? MarkingLevel.Cui : level;

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\f' or '\v';

    private static bool IsUpper(char c) => (uint)(c - 'A') <= 'Z' - 'A';

    private static bool IsDigit(char c) => (uint)(c - '0') <= 9;

    private static bool IsWordChar(char c) => IsUpper(c) || IsDigit(c) || (c >= 0x80 && char.IsLetterOrDigit(c));

    private static bool IsBullet(char c) => c is '-' or '*' or '+' or '>' or '#' or '|' or '◦' or '▪' or '‣' or '●' or '○' or '■' or '□' or '►' or '✓';
}
