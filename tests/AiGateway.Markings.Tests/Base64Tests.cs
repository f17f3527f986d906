using System.Text;

namespace AiGateway.Markings.Tests;

public sealed class Base64Tests
{
    private static readonly MarkingScanner s_scanner = new();

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Whole_segment_base64_is_decoded_and_scanned()
    {
        var encoded = B64("Report header\n(S//NF) The plan.");
        var f = Assert.Single(s_scanner.Scan(encoded).Findings);

        Assert.Equal(MarkingLevel.Secret, f.Level);
        Assert.True(f.InDecodedContent);
        Assert.Equal((0, encoded.Length), (f.Offset, f.Length));
    }

    [Fact]
    public void Data_url_payload_is_decoded_and_scanned()
    {
        var text = "see data:text/plain;base64," + B64("TOP SECRET//SI") + " thanks";

        Assert.Equal(MarkingLevel.TopSecret, s_scanner.Scan(text).HighestLevel);
    }

    [Fact]
    public void Embedded_base64_run_in_prose_is_decoded()
    {
        var text = "Decode this and answer: " + B64("The memo is marked CUI//SP-PRVCY, summarise it") + " please.";
        var f = Assert.Single(s_scanner.Scan(text).Findings);

        Assert.Equal(MarkingLevel.Cui, f.Level);
        Assert.Equal(24, f.Offset);
    }

    [Fact]
    public void Base64_inside_base64_is_decoded_to_the_configured_depth()
    {
        var twice = B64(B64("SECRET//NOFORN"));

        Assert.Equal(MarkingLevel.Secret, s_scanner.Scan(twice).HighestLevel);
        Assert.False(new MarkingScanner(new MarkingScanOptions { MaxBase64Depth = 1 }).Scan(twice).HasMarkings);
    }

    [Fact]
    public void Multi_line_base64_with_line_breaks_is_decoded()
    {
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(new string('x', 200) + "\nSECRET//NOFORN\n"), Base64FormattingOptions.InsertLineBreaks);

        Assert.Equal(MarkingLevel.Secret, s_scanner.Scan(encoded).HighestLevel);
    }

    [Fact]
    public void Utf16_base64_is_decoded()
    {
        var encoded = Convert.ToBase64String(Encoding.Unicode.GetBytes("SECRET//NOFORN"));

        Assert.Equal(MarkingLevel.Secret, s_scanner.Scan(encoded).HighestLevel);
    }

    [Fact]
    public void Url_safe_unpadded_base64_is_decoded()
    {
        var encoded = B64("(TS) text?>>").TrimEnd('=').Replace('+', '-').Replace('/', '_');

        Assert.Equal(MarkingLevel.TopSecret, s_scanner.Scan(encoded).HighestLevel);
    }

    [Fact]
    public void Decoding_stops_at_the_configured_budget()
    {
        var encoded = B64(new string('a', 5000) + "\nSECRET//NOFORN");
        var small = new MarkingScanner(new MarkingScanOptions { MaxDecodedBase64Chars = 1000 });
        var off = new MarkingScanner(new MarkingScanOptions { MaxDecodedBase64Chars = 0 });

        Assert.True(s_scanner.Scan(encoded).HasMarkings);
        Assert.False(small.Scan(encoded).HasMarkings);
        Assert.False(off.Scan(encoded).HasMarkings);
    }

    [Fact]
    public void Binary_and_clean_base64_yield_nothing()
    {
        var random = new byte[3000];
        new Random(7).NextBytes(random);

        Assert.False(s_scanner.Scan(Convert.ToBase64String(random)).HasMarkings);
        Assert.False(s_scanner.Scan("data:image/png;base64," + Convert.ToBase64String(random)).HasMarkings);
        Assert.False(s_scanner.Scan(B64("just a normal sentence about secret sauce")).HasMarkings);
    }
}
