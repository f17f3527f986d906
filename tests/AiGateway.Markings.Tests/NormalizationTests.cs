using AiGateway.Markings.Normalization;

namespace AiGateway.Markings.Tests;

public sealed class NormalizationTests
{
    private static (string Text, int[] Start, int[] End, byte[] Flags) Normalize(string input)
    {
        var nt = NormalizedText.Rent(input.Length);
        try
        {
            TextNormalizer.Normalize(input, 0, ref nt);
            return (new string(nt.Text), nt.Start[..nt.Length], nt.End[..nt.Length], nt.Flags[..nt.Length]);
        }
        finally
        {
            nt.Dispose();
        }
    }

    [Theory]
    [InlineData("Secret//NoForn", "SECRET//NOFORN")]
    [InlineData("\uFF33\uFF25\uFF23\uFF32\uFF25\uFF34", "SECRET")]
    [InlineData("S\u200BE\u200CC\u200DR\u2060E\uFEFFT", "SECRET")]
    [InlineData("S\u0415CR\u0415T", "SECRET")]
    [InlineData("\u03A4\u039F\u03A1", "TOP")]
    [InlineData("S E C R E T", "SECRET")]
    [InlineData("S.E.C.R.E.T.", "SECRET")]
    [InlineData("(T.S.)", "(TS)")]
    [InlineData("S  E  C", "SEC")]
    [InlineData("&#83;ECRET&sol;&sol;NF", "SECRET//NF")]
    [InlineData("&#x53;&#X45;C", "SEC")]
    [InlineData("&lpar;S&rpar;", "(S)")]
    [InlineData("A&amp;B", "A&B")]
    [InlineData("R&D and AT&T", "R&D AND AT&T")]
    [InlineData("\U0001D412\U0001D404\U0001D402", "SEC")]
    [InlineData("S\u00C9CR\u00C8T", "SECRET")]
    [InlineData("SECRET\u2215\u2215NF", "SECRET//NF")]
    [InlineData("ab\u00A0cd", "AB CD")]
    [InlineData("x\u2028y", "X\nY")]
    [InlineData("\uA731\u1D07\u1D04", "SEC")]
    public void Normalize_folds_evasions_to_plain_upper_case(string input, string expected)
    {
        Assert.Equal(expected, Normalize(input).Text);
    }

    [Fact]
    public void Normalize_maps_every_char_back_to_its_original_range()
    {
        var input = "x&#83;\u200BE\U0001D402";
        var (text, start, end, _) = Normalize(input);

        Assert.Equal("XSEC", text);
        Assert.Equal([0, 1, 7, 8], start);
        Assert.Equal([1, 6, 8, 10], end);
    }

    [Fact]
    public void Normalize_collapsed_letters_keep_their_own_offsets()
    {
        var (text, start, end, _) = Normalize("T.S.");

        Assert.Equal("TS", text);
        Assert.Equal([0, 2], start);
        Assert.Equal([1, 4], end);
    }

    [Fact]
    public void Normalize_flags_letters_that_were_lower_case()
    {
        var (_, _, _, flags) = Normalize("Se\u0441");

        Assert.Equal([0, NormalizedText.LowerFlag, NormalizedText.LowerFlag], flags);
    }

    [Theory]
    [InlineData("Words of normal prose stay as they are.", "WORDS OF NORMAL PROSE STAY AS THEY ARE.")]
    [InlineData("a word", "A WORD")]
    [InlineData("AB CD", "AB CD")]
    public void Normalize_does_not_join_ordinary_words(string input, string expected)
    {
        Assert.Equal(expected, Normalize(input).Text);
    }

    [Theory]
    [InlineData("&#83;", 'S', 5)]
    [InlineData("&#83x", 'S', 4)]
    [InlineData("&#x2F;", '/', 6)]
    [InlineData("&sol;", '/', 5)]
    [InlineData("&NewLine;", '\n', 9)]
    [InlineData("&zwj;", 0x200D, 5)]
    public void Html_reference_is_decoded(string input, int codePoint, int consumed)
    {
        Assert.True(HtmlEntities.TryDecode(input, out var cp, out var n));
        Assert.Equal(codePoint, cp);
        Assert.Equal(consumed, n);
    }

    [Theory]
    [InlineData("&D and")]
    [InlineData("&unknown;")]
    [InlineData("&#;")]
    [InlineData("&sol")]
    [InlineData("&#99999999;")]
    public void Html_lookalike_that_is_not_a_reference_is_left_alone(string input)
    {
        Assert.False(HtmlEntities.TryDecode(input, out _, out _));
    }

    [Fact]
    public void Folding_table_marks_typography_as_irrelevant_and_lookalikes_as_relevant()
    {
        Assert.False(CharFolding.IsRelevant('\u201C'));
        Assert.False(CharFolding.IsRelevant('\u2014'));
        Assert.False(CharFolding.IsRelevant('\u4F60'));
        Assert.True(CharFolding.IsRelevant('\uFF33'));
        Assert.True(CharFolding.IsRelevant('\u200B'));
        Assert.True(CharFolding.IsRelevant('\u0415'));
        Assert.True(CharFolding.IsRelevant('\uD835'));
    }

    [Fact]
    public void Folding_maps_latin_extended_a_to_base_letters()
    {
        Assert.Equal('S', (char)CharFolding.Fold('\u0160', out var lower));
        Assert.False(lower);
        Assert.Equal('S', (char)CharFolding.Fold('\u017F', out lower));
        Assert.True(lower);
        Assert.Equal('Z', (char)CharFolding.Fold('\u017D', out _));
    }
}
