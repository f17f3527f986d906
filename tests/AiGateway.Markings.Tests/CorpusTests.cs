namespace AiGateway.Markings.Tests;

public sealed class CorpusTests
{
    private static readonly MarkingScanner s_scanner = new();

    public static TheoryData<CorpusCase> Cases()
    {
        var data = new TheoryData<CorpusCase>();
        foreach (var c in CorpusCase.Load())
        {
            data.Add(c);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corpus_case_yields_expected_highest_level_and_kind(CorpusCase c)
    {
        var result = s_scanner.Scan(c.Text);

        if (c.Level is null)
        {
            Assert.False(result.HasMarkings, $"unexpected: {string.Join(", ", result.Findings)}");
            Assert.Null(result.HighestLevel);
            return;
        }

        Assert.True(result.HasMarkings, "no marking found");
        Assert.Equal(c.Level, result.HighestLevel);
        Assert.Contains(result.Findings, f => f.Kind == c.Kind && f.Level == c.Level);
        foreach (var f in result.Findings)
        {
            Assert.InRange(f.Offset, 0, c.Text.Length - 1);
            Assert.InRange(f.Length, 1, c.Text.Length - f.Offset);
        }
    }

    [Fact]
    public void Corpus_has_at_least_150_cases_covering_every_kind()
    {
        var cases = CorpusCase.Load();
        Assert.True(cases.Count >= 150);
        foreach (var kind in Enum.GetValues<MarkingKind>())
        {
            Assert.Contains(cases, c => c.Kind == kind);
        }

        Assert.True(cases.Count(c => c.Level is null) >= 50);
    }
}
