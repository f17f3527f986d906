namespace AiGateway.Configuration;

/// <summary>
/// Model names, aliases and <c>*</c> wildcards (e.g. <c>gpt-4o*</c>, <c>*</c>) from an agency file.
/// A pattern matches a model when it matches its canonical name or any alias.
/// </summary>
internal sealed class ModelPatternSet
{
    private readonly string[] _patterns;

    public ModelPatternSet(IEnumerable<string> patterns) => _patterns = [.. patterns];

    public static ModelPatternSet Empty { get; } = new([]);

    public IReadOnlyList<string> Patterns => _patterns;

    public bool Matches(ModelRoute model)
    {
        foreach (var pattern in _patterns)
        {
            if (WildcardMatch(pattern, model.Name))
            {
                return true;
            }

            foreach (var alias in model.Aliases)
            {
                if (WildcardMatch(pattern, alias))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Glob match with <c>*</c> only; linear (greedy with one backtrack point), case-insensitive.</summary>
    internal static bool WildcardMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
