namespace AiGateway.Markings.Tests;

public sealed class SegmentTests
{
    private static readonly MarkingScanner s_scanner = new();

    [Fact]
    public void Marking_split_across_two_segments_is_found_in_the_first()
    {
        var result = s_scanner.Scan(["Please review: SEC", "RET//NOFORN is the banner"]);

        var f = Assert.Single(result.Findings);
        Assert.Equal(new MarkingFinding(MarkingKind.Banner, MarkingLevel.Secret, 0, 15, 14), f);
    }

    [Fact]
    public void Split_at_every_point_across_segments_is_found()
    {
        const string text = "intro\n(TS//SI//NF) body";
        for (var split = 1; split < text.Length; split++)
        {
            var result = s_scanner.Scan([text[..split], text[split..]]);
            Assert.Equal(MarkingLevel.TopSecret, result.HighestLevel);
        }
    }

    [Fact]
    public void Split_portion_mark_at_segment_start_is_found()
    {
        var result = s_scanner.Scan(["(S", ") text"]);

        Assert.Equal(MarkingLevel.Secret, result.HighestLevel);
        Assert.Equal(MarkingKind.PortionMark, Assert.Single(result.Findings).Kind);
    }

    [Fact]
    public void Higher_level_formed_across_the_boundary_is_reported()
    {
        var result = s_scanner.Scan(["TOP ", "SECRET//SI"]);

        Assert.Equal(MarkingLevel.TopSecret, result.HighestLevel);
    }

    [Fact]
    public void Each_segment_starts_a_line_and_keeps_its_index()
    {
        var result = s_scanner.Scan(["hello", "(S) world", "clean", "CUI"]);

        Assert.Equal([(1, 0), (3, 0)], result.Findings.Select(f => (f.Segment, f.Offset)));
        Assert.Equal(MarkingLevel.Secret, result.HighestLevel);
    }

    [Fact]
    public void Marking_complete_in_one_segment_is_not_duplicated_by_the_boundary_check()
    {
        var result = s_scanner.Scan(["SECRET//NOFORN", "//ORCON and more"]);

        Assert.Single(result.Findings);
    }

    [Fact]
    public void Words_joined_across_segments_do_not_create_markings()
    {
        Assert.False(s_scanner.Scan(["the", "secret sauce"]).HasMarkings);
        Assert.False(s_scanner.Scan(["file(", "s) list"]).HasMarkings);
    }

    [Fact]
    public void Empty_and_clean_segments_return_none()
    {
        Assert.Same(MarkingScanResult.None, s_scanner.Scan(["", "clean", ""]));
        Assert.Same(MarkingScanResult.None, s_scanner.Scan(Array.Empty<string>()));
    }
}
