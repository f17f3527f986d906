using AiGateway.Markings;
using CsCheck;

namespace AiGateway.Tests.Security;

/// <summary>
/// The marking scanner on hostile text (CsCheck): random Unicode, lone surrogates, zero-width and combining runs,
/// mutated markings, pathological repetition. Property: it never throws, terminates, is deterministic, and a
/// streamed scan split at random points never reports a lower level than the whole-text scan.
/// </summary>
public sealed class MarkingScannerFuzzTests
{
    private static readonly MarkingScanner s_scanner = new();

    private static readonly Gen<string> s_fragment = Gen.OneOf(
        Gen.String,
        Gen.Char.Array[0, 40].Select(c => new string(c)),
        Gen.OneOf("TOP SECRET", "SECRET", "CONFIDENTIAL", "CUI", "//", "NOFORN", "SCI", "(S)", "(TS//SI)", "\u200b", "\u200d", "\ufeff",
            "\u0301", "ＳＥＣＲＥＴ", "ЅЕСRЕТ", "\ud800", "\udfff", "\r\n", "\\u0053", "U//FOUO", "CLASSIFIED BY:", "DECLASSIFY ON:", "&#83;", "%53", "U0VDUkVU"));

    private static readonly Gen<string> s_text = s_fragment.Array[0, 40].Select(parts => string.Concat(parts));

    private static Task WithDeadline(Action property) => Task.Run(property).WaitAsync(TimeSpan.FromMinutes(3));

    [Fact]
    public Task Random_and_mutated_text_is_scanned_without_exception_and_deterministically() => WithDeadline(() =>
        s_text.Sample(text =>
        {
            var first = s_scanner.Scan(text);
            var second = s_scanner.Scan(text);
            Assert.Equal(first.HighestLevel, second.HighestLevel);
            Assert.Equal(first.Findings.Count, second.Findings.Count);
        }, iter: 5000));

    [Fact]
    public Task Streamed_scan_at_random_split_points_finds_at_least_what_the_whole_text_scan_finds() => WithDeadline(() =>
        Gen.Select(s_text, Gen.Int[1, 64].Array[1, 50]).Sample((text, sizes) =>
        {
            var whole = s_scanner.Scan(text);
            var stream = s_scanner.CreateStreamScanner();
            MarkingLevel? highest = null;
            var at = 0;
            for (var i = 0; at < text.Length; i++)
            {
                var size = Math.Min(sizes[i % sizes.Length], text.Length - at);
                highest = Max(highest, stream.Append(text.AsSpan(at, size)).HighestLevel);
                at += size;
            }

            highest = Max(highest, stream.Complete().HighestLevel);
            if (whole.HighestLevel is { } level)
            {
                Assert.True(highest is not null && highest.Value >= level, $"stream found {highest}, whole text {level}: {text}");
            }
        }, iter: 2000));

    [Theory]
    [InlineData("/", 1_000_000)]
    [InlineData("S", 1_000_000)]
    [InlineData("SECRET//", 100_000)]
    [InlineData("(", 500_000)]
    [InlineData("\u200b", 1_000_000)]
    [InlineData("\ud800", 1_000_000)]
    public void Pathological_repetition_finishes(string unit, int count)
    {
        var text = string.Concat(Enumerable.Repeat(unit, count));
        var result = s_scanner.Scan(text);
        Assert.NotNull(result);
    }

    private static MarkingLevel? Max(MarkingLevel? a, MarkingLevel? b) => a is null ? b : b is null ? a : (a.Value >= b.Value ? a : b);
}
