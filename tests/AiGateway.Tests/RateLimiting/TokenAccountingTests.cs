using System.Collections.Frozen;
using System.Text;
using AiGateway.Configuration;
using AiGateway.Markings;
using AiGateway.Model;
using AiGateway.RateLimiting;
using Microsoft.ML.Tokenizers;

namespace AiGateway.Tests.RateLimiting;

public sealed class TokenAccountingTests
{
    [Fact]
    public void Tightest_takes_the_smaller_of_each_limit_and_keeps_unlimited_as_absent()
    {
        var a = new LimitSet(60, null, 5, null, 1000, null, null);
        var b = new LimitSet(100, 20000, null, null, 500, null, null);

        var tight = a.Tightest(b);

        Assert.Equal(new LimitSet(60, 20000, 5, null, 500, null, null), tight);
        Assert.True(LimitSet.Unlimited.Tightest(LimitSet.Unlimited).IsUnlimited);
    }

    [Fact]
    public void Cost_prices_cached_and_cache_write_tokens_separately()
    {
        var pricing = new ModelPricing(InputPerMillion: 2m, OutputPerMillion: 8m, CachedInputPerMillion: 0.5m, CacheWritePerMillion: 2.5m);

        // 1M plain input $2 + 1M cached $0.5 + 1M cache write $2.5 + 1M output $8 = $13.
        var micros = pricing.CostMicros(promptTokens: 3_000_000, completionTokens: 1_000_000, cachedTokens: 1_000_000, cacheCreationTokens: 1_000_000);

        Assert.Equal(13_000_000, micros);
    }

    [Theory]
    [InlineData(59, "59s")]
    [InlineData(60, "1m0s")]
    [InlineData(361, "6m1s")]
    public void Reset_durations_use_the_openai_format(int seconds, string expected) =>
        Assert.Equal(expected, RateLimitMiddleware.Duration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Long_prompt_count_beyond_the_exact_part_stays_within_five_percent_of_the_real_tokenizer()
    {
        var random = new Random(7);
        string[] words = ["Budget", "figures", "for", "FY2027", "include", "procurement,", "R&D", "and", "operations;", "see", "annex", "B.", "Résumé", "naïve", "→", "東京", "42", "—"];
        var text = new StringBuilder();
        while (text.Length < 40_000)
        {
            text.Append(words[random.Next(words.Length)]).Append(random.Next(10) == 0 ? "\n" : " ");
        }

        var prompt = text.ToString();
        var request = new LlmRequest
        {
            Endpoint = new ApiEndpoint(ApiDialect.OpenAI, ApiOperation.ChatCompletions, null),
            Model = "gpt-4o-mini",
            Segments = [new TextSegment(SegmentSource.Message, 0, "user", prompt[..20_000]), new TextSegment(SegmentSource.Message, 1, "user", prompt[20_000..])],
        };

        var counted = new TokenCounter().CountPrompt(request, Route("gpt-4o-mini"));
        var exact = TiktokenTokenizer.CreateForEncoding("o200k_base").CountTokens(prompt) + (2 * 3) + 3;

        Assert.InRange(counted, exact * 0.95, exact * 1.05);
    }

    internal static ModelRoute Route(string name)
    {
        var deployment = new UpstreamDeployment
        {
            DestinationId = "0",
            Provider = new UpstreamProvider { Name = "p", Api = ProviderApi.OpenAI, BaseUrl = new Uri("http://127.0.0.1/") },
            UpstreamModel = name,
        };
        return new ModelRoute
        {
            Name = name,
            Aliases = [],
            Ceiling = MarkingLevel.Unclassified,
            ClusterId = "model:" + name,
            Deployments = [deployment],
            DeploymentsByDestination = new Dictionary<string, UpstreamDeployment> { ["0"] = deployment }.ToFrozenDictionary(),
        };
    }
}
