using System.Buffers;
using AiGateway.Markings.Normalization;

namespace AiGateway.Markings.Scanning;

/// <summary>
/// Decides, without building the normalised text, whether a region can hold a marking at all. It streams the
/// region through the same per-character folding as <see cref="TextNormalizer"/> (HTML references, surrogate pairs,
/// removed characters) and checks necessary conditions of every structural rule on that folded stream. Spaced
/// letters are not joined here, so each condition is written to hold before and after joining. A region for
/// which this returns false produces no finding when normalised and matched, so it is skipped: a line of prose
/// with "café", curly quotes or an em dash costs one cheap pass instead of the full normalisation.
/// <list type="bullet">
/// <item>"//" or "/ /" not preceded by ':' (banners with controls, foreign and joint markings);</item>
/// <item>two upper-case letters at a word start, at most three separators apart, that open a classification or
/// legacy phrase (CO NA TO SE UN CU FO LA LI: bare banners, upper-case legacy phrases);</item>
/// <item>':' after a letter that ends a block label (Y M N S L C), at a real line start;</item>
/// <item>a real whole line made only of letters (at most 24), spaces and decoration (bare legacy phrase in any case);</item>
/// <item>'(' at the content start of a real line (after spaces, bullets, short enumerators) followed by '/', a single
/// letter or a portion abbreviation.</item>
/// </list>
/// </summary>
internal static class RegionFilter
{
    private const int MaxBareLetters = 24;
    private const int MaxRun = 12;

    // Characters that change no state once the line start and any upper-case letter are behind: they only need
    // to be remembered as the last few characters. Runs of them are skipped with a vectorised search.
    private static readonly SearchValues<char> s_plain = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789 ,;!?'\".-");

    public static bool MayContainMarking(ReadOnlySpan<char> text, bool startReal, bool endReal)
    {
        var lineStartReal = startReal;

        // Portion mark: is everything so far a possible content-start prefix?
        var prefixOk = lineStartReal;
        var runLength = 0;
        var paren = 0;
        var parenSpace = false;
        Span<char> run = stackalloc char[MaxRun];
        var runCount = 0;

        // Bare legacy line.
        var bareOk = lineStartReal;
        var letters = 0;

        // Upper-case phrase start.
        var firstUpper = '\0';
        var separators = 0;

        // The last folded characters, most recent first.
        char p1 = '\n', p2 = '\n', p3 = '\n', p4 = '\n', p5 = '\n';

        var i = 0;
        while (i < text.Length)
        {
            if (firstUpper == '\0' && !prefixOk && !bareOk && paren == 0)
            {
                var k = text[i..].IndexOfAnyExcept(s_plain);
                if (k != 0)
                {
                    var end = k < 0 ? text.Length : i + k;
                    for (var j = Math.Max(i, end - 5); j < end; j++)
                    {
                        p5 = p4;
                        p4 = p3;
                        p3 = p2;
                        p2 = p1;
                        p1 = Fold(text[j]);
                    }

                    i = end;
                    if (k < 0)
                    {
                        break;
                    }
                }
            }

            var raw = text[i];
            char c;
            bool lower;
            if (raw < 0x80)
            {
                if (raw is >= 'a' and <= 'z')
                {
                    c = (char)(raw - 32);
                    lower = true;
                    i++;
                }
                else if (raw == '&' && HtmlEntities.TryDecode(text[i..], out var cp, out var len))
                {
                    i += len;
                    if (cp == '&')
                    {
                        c = '&';
                        lower = false;
                    }
                    else
                    {
                        var f = CharFolding.FoldCodePoint(cp, out lower);
                        if (f == CharFolding.Removed)
                        {
                            continue;
                        }

                        c = (char)f;
                    }
                }
                else
                {
                    c = raw;
                    lower = false;
                    i++;
                }
            }
            else
            {
                int f;
                if (char.IsHighSurrogate(raw) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    f = CharFolding.FoldCodePoint(char.ConvertToUtf32(raw, text[i + 1]), out lower);
                    i += 2;
                }
                else
                {
                    f = CharFolding.Fold(raw, out lower);
                    i++;
                }

                if (f == CharFolding.Removed)
                {
                    continue;
                }

                c = (char)f;
            }

            if (c == '\n')
            {
                if (EndLine(bareOk, letters, true, paren, run, runCount))
                {
                    return true;
                }

                lineStartReal = true;
                prefixOk = true;
                bareOk = true;
                runLength = 0;
                paren = 0;
                letters = 0;
                firstUpper = '\0';
                p1 = p2 = p3 = p4 = p5 = '\n';
                continue;
            }

            var upper = IsUpper(c);

            // "//" and "/ /", not the "://" of a URL.
            if (c == '/' && ((p1 == '/' && p2 != ':') || (p1 == ' ' && p2 == '/' && p3 != ':')))
            {
                return true;
            }

            // Upper-case phrase: its first two letters, at a word start, adjacent or joined spaced letters.
            if (upper && !lower)
            {
                if (firstUpper != '\0' && separators <= 3 && OpensPhrase(firstUpper, c))
                {
                    return true;
                }

                firstUpper = IsWordChar(p1) ? '\0' : c;
                separators = 0;
            }
            else if (TextNormalizer.IsSeparator(c))
            {
                separators++;
            }
            else
            {
                firstUpper = '\0';
            }

            if (lineStartReal)
            {
                // Block label: "<label> :" where the label's last letter precedes up to three spaces and an optional dot.
                if (c == ':' && EndsLabel(p1, p2, p3, p4, p5))
                {
                    return true;
                }

                if (bareOk)
                {
                    if (upper)
                    {
                        bareOk = ++letters <= MaxBareLetters;
                    }
                    else if (!(IsSpace(c) || c is '*' or '=' or '#' or '_' or '~' or '-' or '>' or '|' or '.'))
                    {
                        bareOk = false;
                    }
                }

                if (paren == 1)
                {
                    if (IsSpace(c) && !parenSpace)
                    {
                        parenSpace = true;
                    }
                    else if (c == '/')
                    {
                        return true;
                    }
                    else if (IsWordChar(c))
                    {
                        paren = 2;
                        run[0] = c;
                        runCount = 1;
                    }
                    else
                    {
                        paren = 0;
                    }
                }
                else if (paren == 2)
                {
                    if (IsWordChar(c))
                    {
                        if (runCount < MaxRun)
                        {
                            run[runCount] = c;
                        }

                        runCount++;
                    }
                    else
                    {
                        if (IsPortionWord(run, runCount))
                        {
                            return true;
                        }

                        paren = 0;
                    }
                }
                else if (prefixOk)
                {
                    if (upper || IsDigit(c))
                    {
                        runLength++;
                    }
                    else
                    {
                        // A word of two or more characters before the mark must be an enumerator ("1.", "IV)", "A.").
                        if (runLength >= 2 && (runLength > 4 || c is not ('.' or ')')))
                        {
                            prefixOk = false;
                        }
                        else if (c == '(')
                        {
                            paren = 1;
                            parenSpace = false;
                            prefixOk = false;
                        }
                        else if (!(IsSpace(c) || IsBullet(c) || c is '.' or ')' or '_'))
                        {
                            prefixOk = false;
                        }

                        runLength = 0;
                    }
                }
            }

            p5 = p4;
            p4 = p3;
            p3 = p2;
            p2 = p1;
            p1 = c;
        }

        return EndLine(bareOk && lineStartReal, letters, endReal, paren, run, runCount);
    }

    private static bool EndLine(bool bareOk, int letters, bool endReal, int paren, ReadOnlySpan<char> run, int runCount) =>
        (bareOk && endReal && letters > 0) || (paren == 2 && IsPortionWord(run, runCount));

    // A portion mark's first word: a single letter (or the first of spaced letters) or a known abbreviation.
    private static bool IsPortionWord(ReadOnlySpan<char> run, int count)
    {
        if (count == 1)
        {
            return true;
        }

        if (count > MaxRun)
        {
            return false;
        }

        var w = run[..count];
        return w switch
        {
            "TOP" or "SECRET" or "CONFIDENTIAL" or "UNCLASSIFIED" or "CTS" or "CUI" or "FOUO" or "LES" or "SBU" or "TS" or "NS" or "NC" or "NR" or "NU" => true,
            _ => false,
        };
    }

    private static bool EndsLabel(char p1, char p2, char p3, char p4, char p5)
    {
        // Up to three spaces, then an optional '.' (dropped after dotted letters), then the letter.
        Span<char> back = [p1, p2, p3, p4, p5];
        var k = 0;
        while (k < 3 && IsSpace(back[k]))
        {
            k++;
        }

        if (back[k] == '.')
        {
            k++;
        }

        return back[k] is 'Y' or 'M' or 'N' or 'S' or 'L' or 'C';
    }

    private static bool OpensPhrase(char a, char b) => (a, b) switch
    {
        ('C', 'O') or ('N', 'A') or ('T', 'O') or ('S', 'E') or ('U', 'N') or ('C', 'U') or ('F', 'O') or ('L', 'A') or ('L', 'I') => true,
        _ => false,
    };

    private static char Fold(char c) => c is >= 'a' and <= 'z' ? (char)(c - 32) : c;

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\f' or '\v';

    private static bool IsUpper(char c) => (uint)(c - 'A') <= 'Z' - 'A';

    private static bool IsDigit(char c) => (uint)(c - '0') <= 9;

    private static bool IsWordChar(char c) => IsUpper(c) || IsDigit(c) || (c >= 0x80 && char.IsLetterOrDigit(c));

    private static bool IsBullet(char c) => c is '-' or '*' or '+' or '>' or '#' or '|' or '◦' or '▪' or '‣' or '●' or '○' or '■' or '□' or '►' or '✓';
}
