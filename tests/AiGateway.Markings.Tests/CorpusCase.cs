using System.Globalization;
using System.Text;

namespace AiGateway.Markings.Tests;

/// <summary>One line of Corpus/markings-corpus.tsv: expected highest level (or none), expected kind, text.</summary>
public sealed record CorpusCase(int Line, MarkingLevel? Level, MarkingKind? Kind, string Text, string Note)
{
    public override string ToString() => $"L{Line}: {Note}";

    public static IReadOnlyList<CorpusCase> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Corpus", "markings-corpus.tsv");
        var cases = new List<CorpusCase>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var cols = line.Split('\t');
            if (cols.Length < 3)
            {
                throw new InvalidDataException($"corpus line {lineNo}: expected level, kind, text");
            }

            MarkingLevel? level = cols[0] == "None" ? null : Enum.Parse<MarkingLevel>(cols[0]);
            MarkingKind? kind = cols[1] == "-" ? null : Enum.Parse<MarkingKind>(cols[1]);
            cases.Add(new CorpusCase(lineNo, level, kind, Unescape(cols[2]), cols.Length > 3 ? cols[3] : ""));
        }

        return cases;
    }

    public static string Unescape(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\' || i + 1 >= s.Length)
            {
                sb.Append(s[i]);
                continue;
            }

            var e = s[++i];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case '\\': sb.Append('\\'); break;
                case 'u':
                    sb.Append((char)int.Parse(s.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                case 'U':
                    sb.Append(char.ConvertFromUtf32(int.Parse(s.AsSpan(i + 1, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
                    i += 8;
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }

        return sb.ToString();
    }
}
