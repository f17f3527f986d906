using CsCheck;

namespace AiGateway.Markings.Tests;

public sealed class PropertyTests
{
    private static readonly MarkingScanner s_scanner = new();

    // Markings that are found at the start of a paragraph, with their expected level and kind.
    private static readonly (string Marking, MarkingLevel Level, MarkingKind Kind, bool OwnLine)[] s_markings =
    [
        ("(S)", MarkingLevel.Secret, MarkingKind.PortionMark, false),
        ("(TS//SCI)", MarkingLevel.TopSecret, MarkingKind.PortionMark, false),
        ("(C//REL TO USA, AUS)", MarkingLevel.Confidential, MarkingKind.PortionMark, false),
        ("(U//FOUO)", MarkingLevel.Cui, MarkingKind.PortionMark, false),
        ("(CUI//SP-PRVCY)", MarkingLevel.Cui, MarkingKind.PortionMark, false),
        ("(U)", MarkingLevel.Unclassified, MarkingKind.PortionMark, false),
        ("SECRET//NOFORN", MarkingLevel.Secret, MarkingKind.Banner, false),
        ("TOP SECRET//SI-G ABCD//NOFORN", MarkingLevel.TopSecret, MarkingKind.Banner, false),
        ("Secret//NoForn", MarkingLevel.Secret, MarkingKind.Banner, false),
        ("S E C R E T//NOFORN", MarkingLevel.Secret, MarkingKind.Banner, false),
        ("&#83;ECRET&sol;&sol;NOFORN", MarkingLevel.Secret, MarkingKind.Banner, false),
        ("\uFF33\uFF25\uFF23\uFF32\uFF25\uFF34//NF", MarkingLevel.Secret, MarkingKind.Banner, false),
        ("CUI//SP-CTI", MarkingLevel.Cui, MarkingKind.CuiBanner, false),
        ("//GBR SECRET", MarkingLevel.Secret, MarkingKind.ForeignOrJoint, false),
        ("//JOINT SECRET CAN GBR USA", MarkingLevel.Secret, MarkingKind.ForeignOrJoint, false),
        ("NATO SECRET//REL TO USA", MarkingLevel.Secret, MarkingKind.Nato, false),
        ("Classified By: J. Doe, Director", MarkingLevel.Confidential, MarkingKind.AuthorityBlock, true),
        ("Reason: 1.4(c)", MarkingLevel.Confidential, MarkingKind.AuthorityBlock, true),
        ("Controlled by: DHS", MarkingLevel.Cui, MarkingKind.CuiDesignationBlock, true),
        ("SECRET", MarkingLevel.Secret, MarkingKind.Banner, true),
        ("COSMIC TOP SECRET", MarkingLevel.TopSecret, MarkingKind.Nato, true),
        ("FOR OFFICIAL USE ONLY", MarkingLevel.Cui, MarkingKind.LegacyControlled, false),
        ("CUI", MarkingLevel.Cui, MarkingKind.CuiBanner, true),
    ];

    [Fact]
    public void Random_prose_alone_has_no_markings()
    {
        Prose.Paragraphs.Sample(paragraphs =>
        {
            var text = string.Join("\n\n", paragraphs);
            var result = s_scanner.Scan(text);
            Assert.False(result.HasMarkings, $"{text} => {string.Join(", ", result.Findings)}");
        }, iter: 2000);
    }

    [Fact]
    public void Marking_at_any_paragraph_start_in_random_prose_is_found_at_its_level()
    {
        var gen = Gen.Select(Prose.Paragraphs, Gen.Int[0, s_markings.Length - 1], Gen.Int[0, 100], Gen.OneOf("\n\n", "\n", "\r\n"));
        gen.Sample((paragraphs, m, at, separator) =>
        {
            var (marking, level, kind, ownLine) = s_markings[m];
            var index = at % paragraphs.Length;
            var copy = (string[])paragraphs.Clone();
            copy[index] = ownLine ? marking + "\n" + copy[index] : marking + " " + copy[index];
            var text = string.Join(separator, copy);

            var result = s_scanner.Scan(text);

            Assert.Equal(level, result.HighestLevel);
            Assert.Contains(result.Findings, f => f.Kind == kind && f.Level == level);
        }, iter: 3000);
    }

    [Fact]
    public void Corpus_negatives_embedded_in_random_prose_are_never_found()
    {
        var negatives = CorpusCase.Load().Where(c => c.Level is null).Select(c => c.Text).ToArray();
        var gen = Gen.Select(Prose.Paragraphs, Gen.Int[0, negatives.Length - 1], Gen.Int[0, 100], Gen.Bool);
        gen.Sample((paragraphs, n, at, ownParagraph) =>
        {
            var negative = negatives[n];
            var index = at % paragraphs.Length;
            var copy = paragraphs.ToList();
            if (ownParagraph || negative.Contains('\n'))
            {
                copy.Insert(index, negative);
            }
            else
            {
                var p = copy[index];
                var space = p.IndexOf(' ', p.Length / 2);
                copy[index] = space < 0 ? p + " " + negative : p[..space] + " " + negative + p[space..];
            }

            var text = string.Join("\n\n", copy);
            var result = s_scanner.Scan(text);

            Assert.False(result.HasMarkings, $"{text} => {string.Join(", ", result.Findings)}");
        }, iter: 3000);
    }

    [Fact]
    public void Streaming_in_random_chunks_finds_what_a_one_shot_scan_finds()
    {
        var gen = Gen.Select(Prose.Paragraphs, Gen.Int[0, s_markings.Length - 1], Gen.Int[1, 40].Array[1, 400]);
        gen.Sample((paragraphs, m, chunkSizes) =>
        {
            var (marking, level, _, _) = s_markings[m];
            var text = marking + "\n" + string.Join("\n\n", paragraphs) + "\n" + marking;
            var stream = s_scanner.CreateStreamScanner();
            var found = new List<MarkingFinding>();
            var pos = 0;
            var k = 0;
            while (pos < text.Length)
            {
                var size = Math.Min(chunkSizes[k++ % chunkSizes.Length], text.Length - pos);
                found.AddRange(stream.Append(text.AsSpan(pos, size)).Findings);
                Assert.InRange(stream.HoldBackChars, 0, MarkingStreamScanner.MaxHoldBackChars);
                pos += size;
            }

            found.AddRange(stream.Complete().Findings);
            var oneShot = s_scanner.Scan(text);

            Assert.Equal(level, found.Max(f => f.Level));
            Assert.Equal(oneShot.Findings.Select(f => (f.Kind, f.Level, f.Offset)), found.Select(f => (f.Kind, f.Level, f.Offset)));
        }, iter: 1000);
    }
}
