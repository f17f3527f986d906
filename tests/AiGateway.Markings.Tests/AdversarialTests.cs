using System.Text;

namespace AiGateway.Markings.Tests;

// Correctness on 1 MiB hostile inputs; the time they take is measured by the benchmarks, not asserted here.
public sealed class AdversarialTests
{
    private const int OneMiB = 1 << 20;
    private static readonly MarkingScanner s_scanner = new();

    private static string Repeat(string unit, int length = OneMiB)
    {
        var sb = new StringBuilder(length + unit.Length);
        while (sb.Length < length)
        {
            sb.Append(unit);
        }

        return sb.ToString(0, length);
    }

    [Theory]
    [InlineData("(")]
    [InlineData("\n(")]
    [InlineData("S//")]
    [InlineData("SECRET ")]
    [InlineData("S E C R E T ")]
    [InlineData("&#")]
    [InlineData("&#83")]
    [InlineData("/ ")]
    [InlineData("\u200B")]
    [InlineData("\n(S")]
    [InlineData("(S//NF//")]
    [InlineData("Classified By:\n")]
    [InlineData("//GBR ")]
    [InlineData("\uFF33")]
    [InlineData("A")]
    [InlineData("Ab1+")]
    public void Hostile_one_mebibyte_input_without_a_complete_marking_has_none(string unit)
    {
        Assert.False(s_scanner.Scan(Repeat(unit)).HasMarkings);
    }

    [Fact]
    public void Chain_of_controls_on_a_line_is_one_finding()
    {
        var text = "SECRET" + Repeat("//SECRET", 4000);
        var f = Assert.Single(s_scanner.Scan(text).Findings);

        Assert.Equal(MarkingLevel.Secret, f.Level);
    }

    [Fact]
    public void Chain_of_controls_on_a_one_mebibyte_line_gives_non_overlapping_findings()
    {
        var text = "SECRET" + Repeat("//SECRET", OneMiB - 6);
        var findings = s_scanner.Scan(text).Findings;

        Assert.All(findings, f => Assert.Equal(MarkingLevel.Secret, f.Level));
        for (var i = 1; i < findings.Count; i++)
        {
            Assert.True(findings[i].Offset >= findings[i - 1].Offset + findings[i - 1].Length);
        }
    }

    [Fact]
    public void Portion_mark_on_every_line_is_found_on_every_line()
    {
        var text = Repeat("(S) x\n", 6 * 170_000);
        var result = s_scanner.Scan(text);

        Assert.Equal(170_000, result.Findings.Count);
    }

    [Fact]
    public void Marking_at_the_end_of_a_long_hostile_line_is_found()
    {
        var text = Repeat("((((//// ") + " SECRET//NOFORN";

        Assert.Equal(MarkingLevel.Secret, s_scanner.Scan(text).HighestLevel);
    }

    [Fact]
    public void Stream_of_hostile_input_stays_bounded()
    {
        var stream = s_scanner.CreateStreamScanner();
        var text = Repeat("S//S//(");
        for (var i = 0; i < text.Length; i += 4096)
        {
            Assert.False(stream.Append(text.AsSpan(i, Math.Min(4096, text.Length - i))).HasMarkings);
            Assert.InRange(stream.HoldBackChars, 0, MarkingStreamScanner.MaxHoldBackChars);
        }

        Assert.False(stream.Complete().HasMarkings);
    }
}
