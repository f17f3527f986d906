using AiGateway.RateLimiting;

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
}
