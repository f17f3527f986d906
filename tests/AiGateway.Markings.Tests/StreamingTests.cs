namespace AiGateway.Markings.Tests;

public sealed class StreamingTests
{
    private static readonly MarkingScanner s_scanner = new();

    public static TheoryData<string, MarkingLevel> SplitMarkings() => new()
    {
        { "Intro line\nSECRET//NOFORN tail text\n", MarkingLevel.Secret },
        { "Intro line\n(TS//SCI) tail text\n", MarkingLevel.TopSecret },
        { "Intro line\nSECRET\nnext", MarkingLevel.Secret },
        { "Intro line\n&#83;ECRET&sol;&sol;NF tail\n", MarkingLevel.Secret },
        { "Intro S\u200BE\u200BC\u200BR\u200BE\u200BT//NOFORN tail\n", MarkingLevel.Secret },
        { "Intro line\nClassified By: J. Doe\n", MarkingLevel.Confidential },
        { "x\n//JOINT SECRET CAN GBR USA\n", MarkingLevel.Secret },
        { "x \U0001D412\U0001D404\U0001D402\U0001D411\U0001D404\U0001D413//NF y", MarkingLevel.Secret },
        { "Intro\nCUI//SP-PRVCY", MarkingLevel.Cui },
    };

    [Theory]
    [MemberData(nameof(SplitMarkings))]
    public void Marking_split_at_every_point_across_two_chunks_is_found(string text, MarkingLevel level)
    {
        var expected = s_scanner.Scan(text).Findings.Select(f => (f.Kind, f.Level, f.Offset)).ToArray();
        Assert.NotEmpty(expected);

        for (var split = 0; split <= text.Length; split++)
        {
            var stream = s_scanner.CreateStreamScanner(segment: 3);
            var found = new List<MarkingFinding>();
            found.AddRange(stream.Append(text.AsSpan(0, split)).Findings);
            found.AddRange(stream.Append(text.AsSpan(split)).Findings);
            found.AddRange(stream.Complete().Findings);

            Assert.Equal(level, found.Max(f => f.Level));
            Assert.All(found, f => Assert.Equal(3, f.Segment));
            Assert.Equal(expected, found.Select(f => (f.Kind, f.Level, f.Offset)));
        }
    }

    [Fact]
    public void Char_by_char_stream_finds_each_marking_once()
    {
        const string text = "(S) one\n(C) two\nprose SECRET//NOFORN more\nTOP SECRET\n";
        var stream = s_scanner.CreateStreamScanner();
        var found = new List<MarkingFinding>();
        foreach (var ch in text)
        {
            found.AddRange(stream.Append([ch]).Findings);
        }

        found.AddRange(stream.Complete().Findings);

        Assert.Equal(s_scanner.Scan(text).Findings, found);
    }

    [Fact]
    public void Hold_back_stays_bounded_on_a_long_line_without_breaks()
    {
        var stream = s_scanner.CreateStreamScanner();
        var text = Prose.Deterministic(200_000).Replace('\n', ' ');
        for (var i = 0; i < text.Length; i += 37)
        {
            stream.Append(text.AsSpan(i, Math.Min(37, text.Length - i)));
            Assert.InRange(stream.HoldBackChars, 0, MarkingStreamScanner.MaxHoldBackChars);
        }

        stream.Complete();
        Assert.Equal(0, stream.HoldBackChars);
    }

    [Fact]
    public void Hold_back_is_the_unfinished_line()
    {
        var stream = s_scanner.CreateStreamScanner();
        stream.Append("complete line\npartial");

        Assert.Equal("partial".Length, stream.HoldBackChars);
    }

    [Fact]
    public void Clean_chunks_return_the_shared_none_result()
    {
        var stream = s_scanner.CreateStreamScanner();

        Assert.Same(MarkingScanResult.None, stream.Append("Hello there, "));
        Assert.Same(MarkingScanResult.None, stream.Append("how are you?\n"));
        Assert.Same(MarkingScanResult.None, stream.Complete());
    }

    [Fact]
    public void Banner_line_is_certain_only_when_the_line_ends()
    {
        var stream = s_scanner.CreateStreamScanner();

        Assert.False(stream.Append("text\nSECRET").HasMarkings);
        Assert.Equal(MarkingLevel.Secret, stream.Append("\nmore").HighestLevel);
    }

    [Fact]
    public void Append_after_complete_throws()
    {
        var stream = s_scanner.CreateStreamScanner();
        stream.Complete();

        Assert.Throws<ObjectDisposedException>(() => stream.Append("x"));
    }
}
