namespace AiGateway.Markings.Tests;

public sealed class RuleTests
{
    private static readonly MarkingScanner s_scanner = new();

    private static MarkingFinding Single(string text)
    {
        var result = s_scanner.Scan(text);
        return Assert.Single(result.Findings);
    }

    [Fact]
    public void Clean_text_returns_the_shared_none_result()
    {
        var result = s_scanner.Scan("Nothing to see here (really).");

        Assert.Same(MarkingScanResult.None, result);
        Assert.False(result.HasMarkings);
        Assert.Null(result.HighestLevel);
        Assert.Empty(result.Findings);
    }

    [Fact]
    public void Banner_with_controls_reports_offset_and_length_in_original_text()
    {
        var f = Single("Text SECRET//NOFORN more");

        Assert.Equal(new MarkingFinding(MarkingKind.Banner, MarkingLevel.Secret, 0, 5, 14), f);
    }

    [Fact]
    public void Evasive_banner_offsets_cover_the_original_characters()
    {
        const string text = "ab &#83;ECRET&sol;&sol;NF cd";
        var f = Single(text);

        Assert.Equal(3, f.Offset);
        Assert.Equal("&#83;ECRET&sol;&sol;NF", text.Substring(f.Offset, f.Length));
    }

    [Fact]
    public void Portion_mark_covers_the_parentheses()
    {
        var f = Single("  (S//NF) body");

        Assert.Equal(new MarkingFinding(MarkingKind.PortionMark, MarkingLevel.Secret, 0, 2, 7), f);
    }

    [Fact]
    public void Each_portion_marked_paragraph_is_a_finding()
    {
        var result = s_scanner.Scan("(U) one\n(C) two\n(S//NF) three\n(TS) four");

        Assert.Equal(4, result.Findings.Count);
        Assert.Equal(MarkingLevel.TopSecret, result.HighestLevel);
        Assert.Equal([MarkingLevel.Unclassified, MarkingLevel.Confidential, MarkingLevel.Secret, MarkingLevel.TopSecret], result.Findings.Select(f => f.Level));
    }

    [Fact]
    public void Authority_block_lines_are_each_a_finding()
    {
        var result = s_scanner.Scan("Classified By: J. Doe\nDerived From: SCG 1\nDeclassify On: 20451231\nReason: 1.4(c)");

        Assert.Equal(4, result.Findings.Count);
        Assert.All(result.Findings, f => Assert.Equal(MarkingKind.AuthorityBlock, f.Kind));
    }

    [Fact]
    public void Poc_counts_only_inside_a_designation_block()
    {
        var inBlock = s_scanner.Scan("Controlled by: DoD\nCUI Category: PRVCY\nPOC: J. Doe");
        var alone = s_scanner.Scan("POC: J. Doe");

        Assert.Equal(3, inBlock.Findings.Count);
        Assert.All(inBlock.Findings, f => Assert.Equal(MarkingKind.CuiDesignationBlock, f.Kind));
        Assert.False(alone.HasMarkings);
    }

    [Theory]
    [InlineData("(B) second\n(C) third")]
    [InlineData("(C) third\n(D) fourth")]
    [InlineData("(b) second\n\n(C) third")]
    public void Single_letter_in_a_lettered_list_is_an_enumerator(string text)
    {
        Assert.False(s_scanner.Scan(text).HasMarkings);
    }

    [Fact]
    public void Confidential_portion_after_another_portion_mark_still_counts()
    {
        var result = s_scanner.Scan("(U) first\n(C) second");

        Assert.Equal(MarkingLevel.Confidential, result.HighestLevel);
    }

    [Theory]
    [InlineData("(C) 2025 Acme")]
    [InlineData("(C) Acme Inc. All rights reserved")]
    [InlineData("(C)2024")]
    public void Copyright_sign_is_not_a_confidential_portion(string text)
    {
        Assert.False(s_scanner.Scan(text).HasMarkings);
    }

    [Theory]
    [InlineData("NATO RESTRICTED", MarkingLevel.Confidential)]
    [InlineData("//GBR RESTRICTED", MarkingLevel.Confidential)]
    [InlineData("(//GBR R) text", MarkingLevel.Confidential)]
    public void Restricted_maps_to_confidential(string text, MarkingLevel expected)
    {
        Assert.Equal(expected, s_scanner.Scan(text).HighestLevel);
    }

    [Theory]
    [InlineData("UNCLASSIFIED//FOUO")]
    [InlineData("(U//FOUO) x")]
    [InlineData("(U//SP-PRVCY) x")]
    [InlineData("UNCLASSIFIED//LES")]
    public void Unclassified_with_a_cui_control_is_cui_level(string text)
    {
        Assert.Equal(MarkingLevel.Cui, s_scanner.Scan(text).HighestLevel);
    }

    [Fact]
    public void Overlapping_matches_are_reported_once()
    {
        var result = s_scanner.Scan("TOP SECRET//SI//NOFORN");

        var f = Assert.Single(result.Findings);
        Assert.Equal(MarkingLevel.TopSecret, f.Level);
        Assert.Equal(22, f.Length);
    }

    [Fact]
    public void Bare_banner_must_stand_alone_on_its_line()
    {
        Assert.True(s_scanner.Scan("prose\n  SECRET  \nprose").HasMarkings);
        Assert.False(s_scanner.Scan("prose SECRET prose").HasMarkings);
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MarkingScanner(new MarkingScanOptions { MaxDecodedBase64Chars = -1 }));
    }

    [Fact]
    public void Scanner_is_safe_to_share_across_threads()
    {
        var texts = Enumerable.Range(0, 64).Select(i => i % 2 == 0 ? $"p{i}\n(S) x{i}" : $"clean {i} text").ToArray();
        Parallel.For(0, 2000, i =>
        {
            var t = texts[i % texts.Length];
            var r = s_scanner.Scan(t);
            Assert.Equal(i % 2 == 0 ? MarkingLevel.Secret : null, r.HighestLevel);
        });
    }

    [Fact]
    public void Clean_ascii_scan_allocates_nothing()
    {
        var text = string.Concat(Enumerable.Repeat("The committee met (briefly) to discuss the budget and/or timeline. ", 200));
        s_scanner.Scan(text);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = s_scanner.Scan(text);
        var after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Same(MarkingScanResult.None, result);
        Assert.Equal(0, after - before);
    }
}
