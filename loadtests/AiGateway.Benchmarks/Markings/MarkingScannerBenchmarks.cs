using System.Globalization;
using System.Text;
using AiGateway.Markings;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace AiGateway.Benchmarks.Markings;

/// <summary>
/// Throughput of <see cref="MarkingScanner.Scan(ReadOnlySpan{char})"/> on deterministic prompts.
/// Run: dotnet run -c Release --project loadtests/AiGateway.Benchmarks -- --filter '*MarkingScanner*' --job short
/// The MB/s column is millions of characters per second (= UTF-8 MB/s for ASCII text).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class MarkingScannerBenchmarks
{
    private readonly MarkingScanner _scanner = new();
    private string _text = "";

    public enum Content
    {
        CleanAscii,
        DenseAscii,
        CleanNonAscii,
        DenseNonAscii,
        Adversarial,
    }

    [Params(1024, 32 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [Params(Content.CleanAscii, Content.DenseAscii, Content.CleanNonAscii, Content.DenseNonAscii, Content.Adversarial)]
    public Content Kind { get; set; }

    [GlobalSetup]
    public void Setup() => _text = MarkingTexts.Build(Kind, Size);

    [Benchmark]
    public int Scan() => _scanner.Scan(_text).Findings.Count;

    private sealed class ThroughputConfig : ManualConfig
    {
        public ThroughputConfig() => AddColumn(new ThroughputColumn());
    }

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => nameof(ThroughputColumn);

        public string ColumnName => "MB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Millions of characters scanned per second";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            var size = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == nameof(Size))?.Value;
            if (report?.ResultStatistics is null || size is not int chars)
            {
                return "-";
            }

            // Mean is in nanoseconds: chars / ns * 1000 = millions of chars per second.
            return (chars / report.ResultStatistics.Mean * 1000).ToString("N0", CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}

/// <summary>Deterministic benchmark texts.</summary>
internal static class MarkingTexts
{
    private static readonly string[] s_words =
    [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
        "this", "are", "or", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were", "their", "one",
        "all", "we", "can", "has", "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "report",
        "secret", "confidential", "meeting", "budget", "reason", "control", "(see", "above)", "analysis", "committee",
        "program", "government", "agency", "information", "system", "model", "summary", "deadline", "draft",
    ];

    private static readonly string[] s_nonAsciiWords = ["naïve", "café", "“quoted”", "—", "Zürich", "日本語", "résumé", "…", "’s"];

    private static readonly string[] s_asciiMarkings =
    [
        "(S) ", "(TS//SCI) ", "(U//FOUO) ", "(C//REL TO USA, AUS) ", "SECRET//NOFORN\n", "(CUI//SP-PRVCY) ",
        "Classified By: J. Doe\n", "//GBR SECRET ", "CUI\n", "(U) ",
    ];

    private static readonly string[] s_evasiveMarkings =
    [
        "(\uFF33) ", "S\u200BE\u200BC\u200BR\u200BE\u200BT//NOFORN\n", "S\u0415CR\u0415T//NF\n", "&#83;ECRET&sol;&sol;NF ",
        "\uFF08TS//SCI\uFF09 ", "S E C R E T//NOFORN\n", "(U//FOUO) ",
    ];

    public static string Build(MarkingScannerBenchmarks.Content kind, int size)
    {
        if (kind == MarkingScannerBenchmarks.Content.Adversarial)
        {
            var units = new[] { "((((", "S//S//", "\n(", "SECRET ", "&#", "S E C " };
            var sb0 = new StringBuilder(size + 16);
            var u = 0;
            while (sb0.Length < size)
            {
                for (var i = 0; i < 64 && sb0.Length < size; i++)
                {
                    sb0.Append(units[u]);
                }

                u = (u + 1) % units.Length;
            }

            return sb0.ToString(0, size);
        }

        var dense = kind is MarkingScannerBenchmarks.Content.DenseAscii or MarkingScannerBenchmarks.Content.DenseNonAscii;
        var nonAscii = kind is MarkingScannerBenchmarks.Content.CleanNonAscii or MarkingScannerBenchmarks.Content.DenseNonAscii;
        var markings = nonAscii ? s_evasiveMarkings : s_asciiMarkings;
        var rng = new Random(20251123);
        var sb = new StringBuilder(size + 256);
        var wordsInParagraph = 0;
        var paragraphLength = dense ? 12 : 80;
        if (dense)
        {
            sb.Append(markings[0]);
        }

        while (sb.Length < size)
        {
            var word = nonAscii && rng.Next(5) == 0 ? s_nonAsciiWords[rng.Next(s_nonAsciiWords.Length)] : s_words[rng.Next(s_words.Length)];
            sb.Append(word);
            if (++wordsInParagraph >= paragraphLength)
            {
                sb.Append(".\n\n");
                wordsInParagraph = 0;
                if (dense)
                {
                    sb.Append(markings[rng.Next(markings.Length)]);
                }
            }
            else
            {
                sb.Append(rng.Next(12) == 0 ? ", " : " ");
            }
        }

        return sb.ToString(0, size);
    }
}
