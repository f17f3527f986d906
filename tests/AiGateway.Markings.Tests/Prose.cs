using CsCheck;

namespace AiGateway.Markings.Tests;

/// <summary>Deterministic and random benign prose, including words that look like markings but are not.</summary>
internal static class Prose
{
    public static readonly string[] Words =
    [
        "the", "a", "report", "meeting", "budget", "secret", "Secret", "top", "confidential", "classified", "reason",
        "control", "controlled", "sensitive", "official", "use", "only", "file(s)", "(see", "note)", "R&D", "café",
        "—", "U.S.", "TS/JS", "https://example.com/a", "and/or", "50%", "(approx.)", "NATO", "cosmic", "derived",
        "from", "by", "on", "restricted", "data", "is", "was", "sauce", "plans", "for", "summary", "x", "I", "(c)",
        "“quoted”", "e.g.", "2025", "POC", "category", "Victoria's", "s", "t", "u", "c", "CUI-like", "unclassified",
    ];

    public static readonly Gen<string> Sentence =
        Gen.OneOf(Words).Array[3, 18].Select(w => string.Join(' ', w) + ".");

    public static readonly Gen<string[]> Paragraphs =
        Sentence.Array[1, 4].Select(s => string.Join(' ', s)).Array[1, 8];

    /// <summary>A deterministic text of at least <paramref name="length"/> chars (seeded), of paragraphs of prose.</summary>
    public static string Deterministic(int length, int seed = 42, bool nonAscii = false)
    {
        var rng = new Random(seed);
        var sb = new System.Text.StringBuilder(length + 200);
        string[] extra = ["naïve", "café", "“quoted”", "—", "Zürich", "日本語", "résumé", "…"];
        var wordsInParagraph = 0;
        while (sb.Length < length)
        {
            var w = nonAscii && rng.Next(6) == 0 ? extra[rng.Next(extra.Length)] : PlainWords[rng.Next(PlainWords.Length)];
            sb.Append(w);
            wordsInParagraph++;
            if (wordsInParagraph > 60 && rng.Next(20) == 0)
            {
                sb.Append(".\n\n");
                wordsInParagraph = 0;
            }
            else
            {
                sb.Append(rng.Next(12) == 0 ? ", " : " ");
            }
        }

        return sb.ToString(0, length);
    }

    private static readonly string[] PlainWords =
    [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
        "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
        "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
        "who", "so", "no", "report", "secret", "confidential", "meeting", "budget", "reason", "control", "(see",
        "above)", "analysis", "committee", "program", "government", "agency", "information", "system", "model",
    ];
}
