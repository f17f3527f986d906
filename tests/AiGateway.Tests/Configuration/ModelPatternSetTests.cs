using AiGateway.Configuration;

namespace AiGateway.Tests.Configuration;

public sealed class ModelPatternSetTests
{
    [Theory]
    [InlineData("*", "gpt-4o", true)]
    [InlineData("*", "", true)]
    [InlineData("gpt-4o", "gpt-4o", true)]
    [InlineData("GPT-4O", "gpt-4o", true)]
    [InlineData("gpt-4o", "gpt-4o-mini", false)]
    [InlineData("gpt-4o*", "gpt-4o-mini", true)]
    [InlineData("gpt-4o*", "gpt-4o", true)]
    [InlineData("gpt-4o*", "gpt-4", false)]
    [InlineData("*-mini", "gpt-4o-mini", true)]
    [InlineData("*-mini", "gpt-4o-mini-2024", false)]
    [InlineData("claude-*-haiku", "claude-3-5-haiku", true)]
    [InlineData("claude-*-haiku", "claude-haiku", false)]
    [InlineData("a*b*c", "a-b-b-c", true)]
    [InlineData("a*b*c", "a-c-b", false)]
    [InlineData("**", "x", true)]
    [InlineData("", "", true)]
    [InlineData("", "x", false)]
    [InlineData("x", "", false)]
    public void WildcardMatch_matches_star_globs_case_insensitively(string pattern, string text, bool expected)
    {
        Assert.Equal(expected, ModelPatternSet.WildcardMatch(pattern, text));
    }

    [Fact]
    public void WildcardMatch_stays_linear_on_a_backtracking_pattern()
    {
        // A backtracking matcher explodes on this; the greedy one-backtrack-point matcher finishes at once.
        var pattern = string.Concat(Enumerable.Repeat("a*", 40)) + "b";
        var text = new string('a', 5000);

        Assert.False(ModelPatternSet.WildcardMatch(pattern, text));
    }
}
