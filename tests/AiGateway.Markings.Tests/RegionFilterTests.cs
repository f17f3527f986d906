using AiGateway.Markings.Matching;
using AiGateway.Markings.Normalization;
using AiGateway.Markings.Scanning;
using CsCheck;

namespace AiGateway.Markings.Tests;

// The region filter skips lines that cannot hold a marking without normalising them. It must never skip a line
// that the full normalise-and-match path would report: checked here against that path directly.
public sealed class RegionFilterTests
{
    private static readonly MarkingScanner s_scanner = new();

    private static readonly string[] s_tokens =
    [
        "SECRET", "Secret", "secret", "TOP", "TOP SECRET", "CONFIDENTIAL", "UNCLASSIFIED", "CUI", "cui", "CONTROLLED", "NATO", "COSMIC",
        "S", "E", "C", "R", "T", "U", "O", "P", "N", "F", "s", "e", "c", "TS", "NF", "nf", "NOFORN", "NoForn", "SCI", "SI", "REL TO",
        "USA", "GBR", "JOINT", "FOUO", "LES", "SBU", "CTS", "NS", "FOR", "OFFICIAL", "USE", "ONLY", "for", "official", "use", "only",
        "LAW", "ENFORCEMENT", "SENSITIVE", "BUT", "LIMITED", "limited", "Classified", "By", "by", "Derived", "From", "Declassify",
        "On", "Reason", "reason", "1.4(c)", "Classification", "Controlled", "Category", "Categories", "Dissemination", "Control",
        "Controls", "POC", "Jane", "café", "Zürich", "résumé", "naïve", "the", "plan", "a)", "1.", "IV)", "2025", "(c)",
        " ", " ", " ", "  ", "\t", "(", ")", "/", "//", "/ /", "://", ":", ".", "-", "*", "_", "#", ",", "'", "\"", "|", ">", "=",
        "\u0415", "\u0421", "\u0422", "\u041E", "\u0441", "\u0435", "\uFF33", "\uFF25", "\uFF23", "\uFF0F", "\uFF08", "\uFF09",
        "\u2215", "\u2044", "\u200B", "\u200D", "\u0301", "\u00AD", "\u00A0", "\u3000", "\u00C9", "\u00E9", "\u00B7", "\u2028",
        "\u2014", "\u2013", "\u2022", "\u25CF", "\u201C", "\u201D", "\u2026", "\u65E5", "\U0001D412", "\U0001D404", "\U0001F600",
        "&#83;", "&#x53;", "&sol;", "&lpar;", "&rpar;", "&colon;", "&nbsp;", "&amp;", "&NewLine;", "&zwj;", "&",
    ];

    private static readonly Gen<string> s_line = Gen.OneOf(s_tokens).Array[1, 14].Select(t => string.Concat(t));

    private static bool FullPathFinds(string region, bool startReal, bool endReal)
    {
        var nt = NormalizedText.Rent(region.Length);
        try
        {
            TextNormalizer.Normalize(region, 0, ref nt);
            var sink = new FindingSink(0, 0);
            new RegionMatcher(nt, region, startReal, endReal, ref sink).Run();
            return sink.Count > 0;
        }
        finally
        {
            nt.Dispose();
        }
    }

    [Fact]
    public void Filter_never_skips_a_region_the_full_path_reports()
    {
        Gen.Select(s_line, Gen.Bool, Gen.Bool).Sample((line, startReal, endReal) =>
        {
            if (FullPathFinds(line, startReal, endReal))
            {
                Assert.True(RegionFilter.MayContainMarking(line, startReal, endReal), $"skipped: {Escape(line)} start={startReal} end={endReal}");
            }
        }, iter: 200_000);
    }

    [Theory]
    [InlineData("Our café plans are SECRET")] // upper-case word in prose: no marking, but must be examined
    [InlineData("café S\u0415CR\u0415T")]
    public void Prose_with_accents_and_upper_case_words_is_examined(string line)
    {
        Assert.True(RegionFilter.MayContainMarking(line, true, true));
    }

    [Theory]
    [InlineData("Le café de Zürich est “très” bon — naïve résumé…", true, true)]
    [InlineData("(see the café menu) for details", true, true)]
    [InlineData("The café (S) is open", true, true)]
    [InlineData("see café.example/path and/or 1.4 percent", true, true)]
    [InlineData("Note: the café is closed", true, true)]
    public void Ordinary_non_ascii_prose_is_skipped(string line, bool startReal, bool endReal)
    {
        Assert.False(RegionFilter.MayContainMarking(line, startReal, endReal));
    }

    [Theory]
    [InlineData("café \u0405\u0395\u0421\u13A1\u0395\u0422//NF", MarkingLevel.Secret)] // every letter a homoglyph
    [InlineData("Le café: S\u200BE\u200BC\u200BR\u200BE\u200BT//NOFORN", MarkingLevel.Secret)] // zero-width inside SECRET
    [InlineData("café SECRET\uFF0F\uFF0FNOFORN", MarkingLevel.Secret)] // fullwidth slashes
    [InlineData("café SECRET\u2215\u2215NOFORN", MarkingLevel.Secret)] // division slashes
    [InlineData("café SECRET&sol;&sol;NOFORN", MarkingLevel.Secret)]
    [InlineData("\uFF08S\uFF09 Le café est fermé", MarkingLevel.Secret)] // fullwidth parentheses
    [InlineData("&lpar;S&rpar; café", MarkingLevel.Secret)]
    [InlineData("\u2014 (S) café au lait", MarkingLevel.Secret)] // em dash folds to a bullet
    [InlineData("\u2022 (TS) café", MarkingLevel.TopSecret)]
    [InlineData("a) (C//NF) café", MarkingLevel.Confidential)]
    [InlineData("(S E C R E T) café", MarkingLevel.Secret)]
    [InlineData("(s//nf) café", MarkingLevel.Secret)]
    [InlineData("S E C R E T café", null)]
    [InlineData("S E C R E T", MarkingLevel.Secret)]
    [InlineData("S\u00C9CR\u00C8T", MarkingLevel.Secret)]
    [InlineData("f\u00F6r official use only", MarkingLevel.Cui)] // any-case legacy phrase as a whole line
    [InlineData("** l\u00EEmited official use **", MarkingLevel.Cui)]
    [InlineData("D \u00E9 r i v e d From: Jos\u00E9", MarkingLevel.Confidential)]
    [InlineData("C l a s s i f i \u00E9 d  B y: Jos\u00E9", null)] // joined into one word
    [InlineData("Classified  By: Jos\u00E9", MarkingLevel.Confidential)] // two spaces: caught once normalised
    [InlineData("D\u00E9rived From: Jos\u00E9", MarkingLevel.Confidential)]
    [InlineData("R\u00E9ason: 1.4(c)", MarkingLevel.Confidential)]
    [InlineData("Classification: s\u00E9cret", MarkingLevel.Secret)]
    [InlineData("C.U.I. Category: PRVCY café", MarkingLevel.Cui)]
    [InlineData("caf\u00E9 //GBR SECRET", MarkingLevel.Secret)]
    [InlineData("caf\u00E9 Secret//NoForn", MarkingLevel.Secret)]
    [InlineData("S\u00E9cret//NoForn", MarkingLevel.Secret)]
    [InlineData("caf\u00E9 NATO SECRET//REL TO USA", MarkingLevel.Secret)]
    [InlineData("caf\u00E9\u2028SECRET", MarkingLevel.Secret)] // line separator starts a real line
    [InlineData("caf\u00E9&NewLine;(S) x", MarkingLevel.Secret)]
    [InlineData("\U0001D412\U0001D404\U0001D402\U0001D411\U0001D404\U0001D413 café", null)]
    [InlineData("\U0001D412\U0001D404\U0001D402\U0001D411\U0001D404\U0001D413", MarkingLevel.Secret)]
    [InlineData("Le café est SECRET (pas vraiment)", null)]
    [InlineData("café https://example.com/a//b", null)]
    public void Evasions_on_lines_with_accented_words_are_still_found(string text, MarkingLevel? expected)
    {
        Assert.Equal(expected, s_scanner.Scan(text).HighestLevel);
        Assert.Equal(expected, s_scanner.Scan("Intro line.\n" + text + "\nOutro — naïve.").HighestLevel);
    }

    private static string Escape(string s) => string.Concat(s.Select(ch => ch is >= ' ' and < '\u007F' ? ch.ToString() : $"\\u{(int)ch:X4}"));
}
