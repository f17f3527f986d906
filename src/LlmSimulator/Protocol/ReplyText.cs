using System.Globalization;

namespace LlmSimulator.Protocol;

/// <summary>The deterministic reply, the token rule and the chunking rule (see README.md).</summary>
internal static class ReplyText
{
    public static string Build(string name, int messageCount, string? lastUserWords)
    {
        var about = string.IsNullOrEmpty(lastUserWords) ? "nothing in particular" : lastUserWords;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"This is a simulated reply from {name} to {messageCount} {(messageCount == 1 ? "message" : "messages")} about \"{about}\". It is generated deterministically from the request, so tests, demos and load tests always see the same text, the same token usage and the same stream of chunks.");
    }

    /// <summary>Prompt tokens: ceil(UTF-16 chars / 4), at least 1.</summary>
    public static int PromptTokens(long promptChars) => (int)Math.Clamp((promptChars + 3) / 4, 1, int.MaxValue);

    /// <summary>Completion tokens: whitespace-separated words of the reply.</summary>
    public static int CountWords(ReadOnlySpan<char> text)
    {
        var words = 0;
        var inWord = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                inWord = false;
            }
            else if (!inWord)
            {
                inWord = true;
                words++;
            }
        }

        return words;
    }

    /// <summary>
    /// Start of chunk <paramref name="index"/> of <paramref name="count"/> contiguous, near-equal character ranges;
    /// chunk i is [Boundary(i), Boundary(i+1)). Never splits a surrogate pair.
    /// </summary>
    public static int Boundary(string text, int index, int count)
    {
        var boundary = (int)((long)text.Length * index / count);
        if (boundary > 0 && boundary < text.Length && char.IsLowSurrogate(text[boundary]))
        {
            boundary++;
        }

        return boundary;
    }

    /// <summary>UTF-8 variant: returns the end of the first <paramref name="words"/> words and where the first starts.</summary>
    public static int EndOfFirstWords(ReadOnlySpan<byte> text, int words, out int start)
    {
        start = 0;
        while (start < text.Length && IsAsciiSpace(text[start]))
        {
            start++;
        }

        var seen = 0;
        var i = start;
        while (i < text.Length)
        {
            while (i < text.Length && !IsAsciiSpace(text[i]))
            {
                i++;
            }

            if (++seen == words)
            {
                return i;
            }

            var wordEnd = i;
            while (i < text.Length && IsAsciiSpace(text[i]))
            {
                i++;
            }

            if (i == text.Length)
            {
                return wordEnd;
            }
        }

        return i;
    }

    public static int EndOfFirstWords(ReadOnlySpan<char> text, int words, out int start)
    {
        start = 0;
        while (start < text.Length && char.IsWhiteSpace(text[start]))
        {
            start++;
        }

        var seen = 0;
        var i = start;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (++seen == words)
            {
                return i;
            }

            var wordEnd = i;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i == text.Length)
            {
                return wordEnd;
            }
        }

        return i;
    }

    private static bool IsAsciiSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';
}
