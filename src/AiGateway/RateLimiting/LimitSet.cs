using AiGateway.Configuration;

namespace AiGateway.RateLimiting;

/// <summary>
/// Validated limits of one scope; null means unlimited. Costs are held in micro-dollars so counters stay integers.
/// </summary>
internal sealed record LimitSet(
    long? RequestsPerMinute,
    long? TokensPerMinute,
    long? ConcurrentRequests,
    long? TokensPerDay,
    long? TokensPerMonth,
    long? CostMicrosPerDay,
    long? CostMicrosPerMonth)
{
    public static LimitSet Unlimited { get; } = new(null, null, null, null, null, null, null);

    public bool IsUnlimited => this == Unlimited;

    public static LimitSet From(LimitSetConfig config) => new(
        config.RequestsPerMinute,
        config.TokensPerMinute,
        config.ConcurrentRequests,
        config.TokensPerDay,
        config.TokensPerMonth,
        config.CostPerDay is { } d ? (long)(d * 1_000_000m) : null,
        config.CostPerMonth is { } m ? (long)(m * 1_000_000m) : null);

    /// <summary>The tighter value of each limit.</summary>
    public LimitSet Tightest(LimitSet other) => new(
        Min(RequestsPerMinute, other.RequestsPerMinute),
        Min(TokensPerMinute, other.TokensPerMinute),
        Min(ConcurrentRequests, other.ConcurrentRequests),
        Min(TokensPerDay, other.TokensPerDay),
        Min(TokensPerMonth, other.TokensPerMonth),
        Min(CostMicrosPerDay, other.CostMicrosPerDay),
        Min(CostMicrosPerMonth, other.CostMicrosPerMonth));

    /// <summary>Each limit scaled by <paramref name="share"/> (at least 1): what one node enforces alone when the shared store is down.</summary>
    public LimitSet Scale(double share) => new(
        Scale(RequestsPerMinute, share),
        Scale(TokensPerMinute, share),
        Scale(ConcurrentRequests, share),
        Scale(TokensPerDay, share),
        Scale(TokensPerMonth, share),
        Scale(CostMicrosPerDay, share),
        Scale(CostMicrosPerMonth, share));

    private static long? Min(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private static long? Scale(long? value, double share) => value is null ? null : Math.Max(1, (long)(value.Value * share));

    /// <summary>Checks the shape of a limits block; reports through <paramref name="error"/> with JSON paths.</summary>
    public static void Validate(LimitSetConfig config, string path, Action<string, string> error)
    {
        Check(config.RequestsPerMinute, "requestsPerMinute");
        Check(config.TokensPerMinute, "tokensPerMinute");
        Check(config.ConcurrentRequests, "concurrentRequests");
        Check(config.TokensPerDay, "tokensPerDay");
        Check(config.TokensPerMonth, "tokensPerMonth");
        if (config.CostPerDay is < 0)
        {
            error($"{path}.costPerDay", "must not be negative.");
        }

        if (config.CostPerMonth is < 0)
        {
            error($"{path}.costPerMonth", "must not be negative.");
        }

        void Check(long? value, string name)
        {
            if (value is < 0)
            {
                error($"{path}.{name}", "must not be negative (omit it for no limit).");
            }
        }
    }
}

/// <summary>An agency's validated limits.</summary>
internal sealed record AgencyLimits(
    LimitSet PerCaller,
    LimitSet Agency,
    IReadOnlyDictionary<string, LimitSet> Callers,
    int DefaultMaxOutputTokens,
    bool FailOpen,
    double FailOpenShare,
    IReadOnlyList<string> AdminRoles)
{
    public static AgencyLimits Default { get; } = new(LimitSet.Unlimited, LimitSet.Unlimited, new Dictionary<string, LimitSet>(), 1024, false, 0.5, []);
}

/// <summary>A model's prices in US dollars per million tokens.</summary>
internal sealed record ModelPricing(decimal InputPerMillion, decimal OutputPerMillion, decimal CachedInputPerMillion, decimal CacheWritePerMillion)
{
    public static ModelPricing? From(ModelPricingConfig? config) => config is null
        ? null
        : new(config.InputPerMillion, config.OutputPerMillion, config.CachedInputPerMillion ?? config.InputPerMillion, config.CacheWritePerMillion ?? config.InputPerMillion);

    /// <summary>Cost in micro-dollars. Cached and cache-creation input tokens are priced separately from the rest of the input.</summary>
    public long CostMicros(long promptTokens, long completionTokens, long cachedTokens = 0, long cacheCreationTokens = 0)
    {
        var plainInput = Math.Max(0, promptTokens - cachedTokens - cacheCreationTokens);
        var dollars = ((plainInput * InputPerMillion) + (cachedTokens * CachedInputPerMillion) + (cacheCreationTokens * CacheWritePerMillion) + (completionTokens * OutputPerMillion)) / 1_000_000m;
        return (long)Math.Ceiling(dollars * 1_000_000m);
    }
}
