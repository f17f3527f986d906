using System.Collections.Frozen;
using AiGateway.Markings.Normalization;

namespace AiGateway.Markings.Matching;

/// <summary>
/// Decides how much of a streamed text's unfinished last line must still be held back: the shortest suffix that
/// could still become (part of) a marking, or change one, once more text arrives. Everything before it can be
/// released. The decision is made on the <em>normalised</em> last line (same folding as the matcher: case,
/// homoglyphs, fullwidth, invisible characters, HTML references, spaced/dotted letters), so evasions are judged
/// by what they fold to.
/// <para>A marking is built only from a restricted vocabulary, so the held suffix starts no later than:</para>
/// <list type="number">
/// <item>the start of the trailing run of "marking-ish" words (see <see cref="IsMarkingWord"/>) with any
/// non-word characters between them — a word that cannot be part of a marking ends every marking before it
/// (a control token is continued only by upper-case words or after <c>REL</c>);</item>
/// <item>the start of the line while it is still such a run from its start (bare banner, portion mark,
/// block label, legacy phrase alone on a line), and for the whole line once it is an authority/designation
/// label with a value (the finding runs to the line end) or a single-letter portion mark <c>(S)</c>,
/// <c>(C)</c>, <c>(U)</c> (copyright and lettered-list checks read the rest of the line);</item>
/// <item>the start of an open <c>REL TO</c> list (its words may be in any case);</item>
/// <item>the start of the trailing raw token (no white space): an unfinished word, base64 run or data URL,
/// HTML reference (<c>&amp;#8</c>), surrogate pair or trailing invisible character.</item>
/// </list>
/// The caller caps the result at <see cref="MarkingStreamScanner.MaxHoldBackChars"/>.
/// </summary>
internal static class StreamHoldBack
{
    /// <summary>Longest tail of a line that is normalised to decide; a run reaching further is capped by the caller.</summary>
    public const int Window = 200;

    /// <summary>Result meaning "the marking-ish run reaches back past the examined text": hold as much as allowed.</summary>
    public const int Unbounded = -1;

    // ParseControlToken limits (16 words, 96 chars), with a margin: treating more words as part of a list only holds more.
    private const int RelMaxWords = 18;
    private const int RelMaxChars = 100;

    private static readonly System.Buffers.SearchValues<char> s_referenceChars =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly FrozenSet<string> s_classificationWords = Words(
        MarkingVocabulary.Classifications.Select(p => p.Text).Concat(MarkingVocabulary.ForeignClassifications.Select(p => p.Text)));

    private static readonly FrozenSet<string> s_legacyWords = Words(MarkingVocabulary.Legacy.Select(p => p.Text));

    // Words that only matter at a line's content start: block labels and portion-mark abbreviations.
    private static readonly FrozenSet<string> s_lineStartWords = Words(
        MarkingVocabulary.Labels.Select(l => l.Text).Concat(MarkingVocabulary.PortionAbbreviations.Select(p => p.Text)));

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> s_classificationLookup = s_classificationWords.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> s_legacyLookup = s_legacyWords.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> s_lineStartLookup = s_lineStartWords.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// Index in <paramref name="text"/> before which nothing can still become part of a marking, or
    /// <see cref="Unbounded"/>. <paramref name="lineStart"/> is the start of the last line in
    /// <paramref name="text"/>; <paramref name="lineStartReal"/> says whether it is a real line start (false when
    /// the text begins in the middle of a line).
    /// <para><paramref name="resume"/>: an index (at or before the result) where a later call, with more text
    /// appended, may start instead of <paramref name="lineStart"/> (passing false for a real line start) and decide
    /// the same, or -1. It follows a complete word that is no part of a marking and the white space after it: the
    /// examination is then in the state it starts in (no open run, no "/", no line-start words), and no folding
    /// (spaced letters, references) reaches across it. Never set on a line held whole (its start decides).</para>
    /// </summary>
    public static int SafeEnd(ReadOnlySpan<char> text, int lineStart, bool lineStartReal, out int resume)
    {
        resume = -1;
        var n = text.Length;

        // (4) The trailing raw token is always held.
        var t0 = n;
        while (t0 > lineStart && text[t0 - 1] is not (' ' or '\t' or '\r' or '\n'))
        {
            t0--;
        }

        if (t0 == n && (n == lineStart || text[n - 1] is '\n'))
        {
            return n;
        }

        var ws = lineStart;
        var wsReal = lineStartReal;
        if (n - ws > Window)
        {
            ws = n - Window;
            var space = text.Slice(ws, 32).IndexOfAny(' ', '\t');
            if (space >= 0)
            {
                ws += space + 1;
            }

            wsReal = false;
        }

        var nt = NormalizedText.Rent(n - ws);
        try
        {
            TextNormalizer.Normalize(text[ws..], ws, ref nt);
            var held = HeldFrom(nt, text, t0, wsReal, out var unbounded, out var fresh);
            if (unbounded)
            {
                return Unbounded;
            }

            var end = Math.Min(t0, held < nt.Length ? nt.Start[held] : n);
            if (fresh >= 0 && nt.Start[fresh] <= end)
            {
                resume = nt.Start[fresh];
            }

            return end;
        }
        finally
        {
            nt.Dispose();
        }
    }

    /// <summary>
    /// Normalised index from which the text must be held (<c>nt.Length</c> when nothing needs to be); <paramref name="fresh"/>:
    /// the last normalised index where the examination could start over (see SafeEnd's resume), or -1.
    /// </summary>
    private static int HeldFrom(in NormalizedText nt, ReadOnlySpan<char> raw, int rawTokenStart, bool startReal, out bool unbounded, out int fresh)
    {
        fresh = -1;
        var c = nt.Chars.AsSpan(0, nt.Length);
        var flags = nt.Flags.AsSpan(0, nt.Length);
        var n = c.Length;

        // Where the last line starts in the normalised text (U+2028 etc. fold to '\n').
        var lastNl = c.LastIndexOf('\n');
        var ls = lastNl + 1;
        var lineReal = lastNl >= 0 || startReal;

        // An HTML reference still being received ("&#8", "&so") folds to something else once complete: words that
        // reach into it are not judged yet.
        var pending = PendingReference(raw, rawTokenStart);

        var runStart = ls;
        var lineRun = lineReal;
        var slash = false;
        var prevEnd = -1;
        var prevMarking = false;
        var i = ls;
        while (i < n)
        {
            var ch = c[i];
            if (!IsWordChar(ch))
            {
                slash |= ch == '/';
                i++;
                continue;
            }

            var j = i;
            while (j < n && IsWordChar(c[j]))
            {
                j++;
            }

            var word = c[i..j];
            if (slash && word.SequenceEqual("REL"))
            {
                // A REL TO list takes following words in any case; while it can still grow, hold the whole run.
                var te = RelListEnd(c, i, out var listOpen);
                if (listOpen)
                {
                    break;
                }

                prevEnd = te;
                prevMarking = true;
                i = te;
                continue;
            }

            // Joined to a marking-ish word by '-' or '/' ("SAR-BP"), or the next control after its "//" (after the
            // first control, a control token may be any word: "SECRET//NF//whatever").
            var attached = prevMarking && ((prevEnd == i - 1 && c[i - 1] is '-' or '/') || IsDoubleSlashGap(c[prevEnd..i]));
            var open = IsOpen(nt, raw, i, j, rawTokenStart);
            var upper = flags[i..j].IndexOf(NormalizedText.LowerFlag) < 0;
            var enumerator = lineRun && j - i <= 4 && (open || (j < n && c[j] is '.' or ')'));
            prevEnd = j;
            prevMarking = enumerator || nt.End[j - 1] > pending || IsMarkingWord(word, upper, open, lineRun, slash, attached);
            if (!prevMarking)
            {
                // No marking runs through this word; what follows it up to the next word or '/' cannot start one
                // ('(' starts a portion mark only at a line start, which this word rules out).
                runStart = j;
                while (runStart < n && !IsWordChar(c[runStart]) && c[runStart] != '/')
                {
                    runStart++;
                }

                // A restart point only after a word of two or more characters and white space (ScanEngine's
                // context rule: no spaced-letter run or reference reaches across it), and before the raw token.
                if (j - i >= 2 && runStart < n && c[j..runStart].IndexOfAny(' ', '\t') >= 0 && nt.Start[runStart] <= rawTokenStart)
                {
                    fresh = runStart;
                }

                lineRun = false;
                slash = false;
            }

            i = j;
        }

        // (2) Whole-line holds: a label line with a value that keeps it a marking, a single-letter portion mark.
        if (lineReal && LineIsHeldWhole(c, flags, ls))
        {
            runStart = ls;
            fresh = -1;
        }

        unbounded = runStart == 0 && !startReal && n > 0;
        return runStart;
    }

    /// <summary>Could this word (normalised, upper-case) be part of a marking, given its context?</summary>
    internal static bool IsMarkingWord(ReadOnlySpan<char> word, bool upper, bool open, bool lineRun, bool slash, bool attached)
    {
        if (word.Length == 1 && IsAsciiLetter(word[0]))
        {
            return true; // portion abbreviations, and a single letter may join spaced letters ("S E C R E T")
        }

        if (s_classificationLookup.Contains(word)
            || ((upper || lineRun) && s_legacyLookup.Contains(word))
            || (lineRun && s_lineStartLookup.Contains(word)))
        {
            return true;
        }

        if (slash && (attached || MarkingVocabulary.IsControlWord(word) || (upper && IsAsciiAlphanumeric(word))))
        {
            return true; // control tokens: known controls in any case, any upper-case word, "SAR-BP" parts
        }

        if (!open)
        {
            return false;
        }

        // The last word may still grow into a vocabulary word (or, after a slash, into a control).
        return slash
            || IsPrefixOfAny(word, s_classificationWords)
            || ((upper || lineRun) && IsPrefixOfAny(word, s_legacyWords))
            || (lineRun && IsPrefixOfAny(word, s_lineStartWords));
    }

    // A word is open (may still grow) when it ends the text or runs into the unfinished raw token, or when it is a
    // single letter or a run of joined spaced letters followed only by up to three separators (the next single
    // letter would join it: "S E C" + " R E T").
    private static bool IsOpen(in NormalizedText nt, ReadOnlySpan<char> raw, int i, int j, int rawTokenStart)
    {
        var n = nt.Length;
        if (j == n || (nt.Start[j] >= rawTokenStart && MayStillFold(raw[nt.Start[j]..])))
        {
            return true;
        }

        var joined = j - i == 1;
        for (var k = i; k + 1 < j && !joined; k++)
        {
            joined = nt.Start[k + 1] != nt.End[k];
        }

        if (!joined)
        {
            return false;
        }

        for (var k = j; k < n && k - j < 3; k++)
        {
            if (nt.Start[k] >= rawTokenStart && MayStillFold(raw[nt.Start[k]..]))
            {
                return true;
            }

            if (!TextNormalizer.IsSeparator(nt.Chars[k]))
            {
                return false;
            }

            if (k + 1 == n)
            {
                return true;
            }
        }

        return false;
    }

    // "//" or "/ /" with at most three spaces around it (RegionMatcher.DoubleSlash after SkipSpaces).
    private static bool IsDoubleSlashGap(ReadOnlySpan<char> gap)
    {
        var t = gap.Trim(' ');
        return t.Length <= 3 && (t is "//" or "/ /") && gap.Length - t.Length <= 6;
    }

    // Raw index of an '&' in the unfinished token that may still become an HTML reference, or int.MaxValue.
    private static int PendingReference(ReadOnlySpan<char> raw, int rawTokenStart)
    {
        var amp = raw[rawTokenStart..].LastIndexOf('&');
        if (amp < 0)
        {
            return int.MaxValue;
        }

        amp += rawTokenStart;
        var tail = raw[(amp + 1)..];
        var name = tail.StartsWith("#") ? tail[1..] : tail;
        if (tail.StartsWith("#") && name.Length > 0 && name[0] is 'x' or 'X')
        {
            name = name[1..];
        }

        return name.Length <= 10 && !name.ContainsAnyExcept(s_referenceChars) ? amp : int.MaxValue;
    }

    // The unfinished end of the text may still fold into a letter: an HTML reference in progress ("&#8") or the
    // first half of a surrogate pair.
    private static bool MayStillFold(ReadOnlySpan<char> rawTail) =>
        rawTail.Contains('&') || char.IsHighSurrogate(rawTail[^1]);

    // Mirrors RegionMatcher.ParseControlToken for a "REL" head: the token continues with words of any case
    // separated by "," and/or one space. Returns its end; open = more text could still extend it.
    private static int RelListEnd(ReadOnlySpan<char> c, int w0, out bool open)
    {
        var n = c.Length;
        var te = ControlWordEnd(c, w0);
        for (var words = 0; words < RelMaxWords && te - w0 < RelMaxChars; words++)
        {
            if (CouldContinue(c[te..]))
            {
                open = true;
                return n;
            }

            var r = te;
            if (r < n && c[r] == ',')
            {
                r++;
            }

            if (r < n && c[r] == ' ')
            {
                r++;
            }

            if (r == te)
            {
                break;
            }

            var ws = r;
            r = ControlWordEnd(c, r);
            if (r == ws)
            {
                break;
            }

            te = r;
        }

        open = CouldContinue(c[te..]);
        return open ? n : te;
    }

    // What may follow a control word's end and still let it (or its list) grow: nothing yet, ",", ", ", " ", or a
    // '-'/'/' that the next character may turn into part of the word.
    private static bool CouldContinue(ReadOnlySpan<char> rest) =>
        rest.IsEmpty || rest is "," or ", " or " " or "-" or "/";

    private static int ControlWordEnd(ReadOnlySpan<char> c, int q)
    {
        var n = c.Length;
        while (q < n)
        {
            var ch = c[q];
            if (IsAsciiLetter(ch) || char.IsAsciiDigit(ch))
            {
                q++;
            }
            else if (ch is '-' or '/' && q + 1 < n && (IsAsciiLetter(c[q + 1]) || char.IsAsciiDigit(c[q + 1])))
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

    /// <summary>
    /// The line (normalised, from <paramref name="ls"/> to the end of the text) is a block label with a value
    /// that keeps it a marking, or starts with a single-letter portion mark: its finding (or whether there is one)
    /// depends on the rest of the line, so all of it is held until the line ends.
    /// </summary>
    private static bool LineIsHeldWhole(ReadOnlySpan<char> c, ReadOnlySpan<byte> flags, int ls)
    {
        var n = c.Length;
        var cs = ContentStart(c, ls, n);
        if (cs >= n)
        {
            return false;
        }

        if (c[cs] == '(')
        {
            // "(S)", "( C )", "(U)" followed by a non-word character or nothing yet, upper-case.
            var p = SkipSpaces(c, cs + 1, n, 1);
            if (p >= n || c[p] is not ('S' or 'C' or 'U') || (p + 1 < n && IsWordChar(c[p + 1])))
            {
                return false;
            }

            var q = SkipSpaces(c, p + 1, n, 3);
            return q < n && c[q] == ')' && (q + 1 >= n || !IsWordChar(c[q + 1]))
                && flags[cs..(q + 1)].IndexOf(NormalizedText.LowerFlag) < 0;
        }

        foreach (var label in MarkingVocabulary.Labels)
        {
            if (!MatchPhrase(c, cs, n, label.Text, out var le))
            {
                continue;
            }

            var q = SkipSpaces(c, le, n, 3);
            if (q >= n || c[q] != ':')
            {
                continue;
            }

            var v = SkipSpaces(c, q + 1, n, int.MaxValue);
            var value = c[v..];
            switch (label.Value)
            {
                case MarkingVocabulary.LabelValue.Reason14:
                    if (value.Length == 0 || value.StartsWith("1.4") || "1.4".AsSpan().StartsWith(value))
                    {
                        return true;
                    }

                    break;
                case MarkingVocabulary.LabelValue.Classification:
                    if (ValueMayBeClassification(value))
                    {
                        return true;
                    }

                    break;
                default:
                    return true;
            }
        }

        return false;
    }

    private static bool ValueMayBeClassification(ReadOnlySpan<char> value)
    {
        var e = 0;
        while (e < value.Length && IsWordChar(value[e]))
        {
            e++;
        }

        var first = value[..e];
        return first.IsEmpty
            || (e == value.Length ? IsPrefixOfAny(first, s_classificationWords) : s_classificationLookup.Contains(first));
    }

    // Mirrors RegionMatcher.ContentStart: spaces, bullets and short enumerators ("1.", "a)") before the content.
    private static int ContentStart(ReadOnlySpan<char> c, int a, int b)
    {
        var p = SkipSpaces(c, a, b, int.MaxValue);
        for (var k = 0; k < 4 && p < b; k++)
        {
            var q = p;
            while (q < b && IsBullet(c[q]))
            {
                q++;
            }

            if (q > p)
            {
                p = SkipSpaces(c, q, b, int.MaxValue);
                continue;
            }

            var e = q;
            while (e < b && e - q < 4 && (char.IsAsciiDigit(c[e]) || IsAsciiLetter(c[e])))
            {
                e++;
            }

            if (e > q && e + 1 < b && c[e] is '.' or ')' && IsSpace(c[e + 1]))
            {
                p = SkipSpaces(c, e + 1, b, int.MaxValue);
                continue;
            }

            break;
        }

        return p;
    }

    // Mirrors RegionMatcher.MatchPhrase: words separated by one to three spaces, ending at a word boundary.
    private static bool MatchPhrase(ReadOnlySpan<char> c, int p, int b, string text, out int after)
    {
        after = p;
        var q = p;
        foreach (var ch in text)
        {
            if (ch == ' ')
            {
                var s = q;
                while (q < b && q - s < 3 && IsSpace(c[q]))
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
                if (q >= b || c[q] != ch)
                {
                    return false;
                }

                q++;
            }
        }

        if (q < b && IsWordChar(c[q]))
        {
            return false;
        }

        after = q;
        return true;
    }

    private static int SkipSpaces(ReadOnlySpan<char> c, int p, int b, int max)
    {
        var s = p;
        while (p < b && p - s < max && IsSpace(c[p]))
        {
            p++;
        }

        return p;
    }

    private static bool IsPrefixOfAny(ReadOnlySpan<char> word, FrozenSet<string> words)
    {
        foreach (var w in words)
        {
            if (w.AsSpan().StartsWith(word))
            {
                return true;
            }
        }

        return false;
    }

    private static FrozenSet<string> Words(IEnumerable<string> phrases) =>
        phrases.SelectMany(p => p.Split(' ')).ToFrozenSet(StringComparer.Ordinal);

    private static bool IsAsciiAlphanumeric(ReadOnlySpan<char> word)
    {
        foreach (var ch in word)
        {
            if (!(IsAsciiLetter(ch) || char.IsAsciiDigit(ch)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAsciiLetter(char c) => (uint)(c - 'A') <= 'Z' - 'A';

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\f' or '\v';

    // Same as RegionMatcher.IsWordChar (on normalised text).
    private static bool IsWordChar(char c) => IsAsciiLetter(c) || char.IsAsciiDigit(c) || (c >= 0x80 && char.IsLetterOrDigit(c));

    private static bool IsBullet(char c) => c is '-' or '*' or '+' or '>' or '#' or '|' or '◦' or '▪' or '‣' or '●' or '○' or '■' or '□' or '►' or '✓';
}
