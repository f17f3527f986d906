using System.Collections.Concurrent;

namespace AiGateway.RateLimiting;

/// <summary>Which limit of a scope.</summary>
internal enum LimitMetric
{
    RequestsPerMinute,
    TokensPerMinute,
    ConcurrentRequests,
    TokensPerDay,
    TokensPerMonth,
    CostPerDay,
    CostPerMonth,
}

/// <summary>
/// One set of counters: a caller, an agency or a model. <see cref="Key"/> carries a Redis hash tag
/// (e.g. <c>aigw:{demo}:caller:alice</c>) so all scopes of one agency live in one Cluster slot.
/// </summary>
internal sealed record LimitScope(string Key, string Name, LimitSet Limits)
{
    private ScopeKeys? _keys;

    /// <summary>A scope of a caller, an agency or a model whose key strings are already built (<see cref="ScopeKeys"/>).</summary>
    public LimitScope(ScopeKeys keys, string name, LimitSet limits)
        : this(keys.Key, name, limits) => _keys = keys;

    /// <summary>The strings derived from <see cref="Key"/> (again after a <c>with</c> that changed the key).</summary>
    public ScopeKeys Keys => _keys is { } keys && (ReferenceEquals(keys.Key, Key) || keys.Key == Key) ? keys : _keys = ScopeKeys.Of(Key);

    /// <summary>The hash-tag part of the key: scopes with the same tag are checked in one atomic script.</summary>
    public string Slot => Keys.Slot;

    // Equal by what the scope is, not by whether its derived keys were looked up yet.
    public bool Equals(LimitScope? other) => other is not null && Key == other.Key && Name == other.Name && Limits == other.Limits;

    public override int GetHashCode() => HashCode.Combine(Key, Name, Limits);
}

/// <summary>
/// A scope's key, its hash tag and its three Redis keys, built once per caller, agency and model rather than
/// concatenated on every request (each request names two or three scopes). The callers' cache is bounded: past
/// <see cref="MaxCached"/> entries it starts over (agencies and models are few, from the configuration).
/// </summary>
internal sealed class ScopeKeys
{
    internal const int MaxCached = 20_000; // ~1 KB each

    private static readonly ConcurrentDictionary<(string Agency, string Subject), ScopeKeys> s_callers = new();
    private static readonly ConcurrentDictionary<string, ScopeKeys> s_agencies = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, ScopeKeys> s_models = new(StringComparer.Ordinal);
    private static int s_count;

    private ScopeKeys(string key)
    {
        Key = key;
        Slot = key[..(key.IndexOf('}') + 1)];
        Window = key + ":w";
        Budget = key + ":b";
        InFlight = key + ":f";
    }

    public string Key { get; }

    public string Slot { get; }

    /// <summary>Hash of one-second request/token buckets over the sliding minute.</summary>
    public string Window { get; }

    /// <summary>Hash of day/month token and cost budgets.</summary>
    public string Budget { get; }

    /// <summary>Sorted set of in-flight leases.</summary>
    public string InFlight { get; }

    /// <summary><c>aigw:{agency}:caller:subject</c>.</summary>
    public static ScopeKeys ForCaller(string agency, string subject) =>
        s_callers.TryGetValue((agency, subject), out var keys) ? keys : Add(s_callers, (agency, subject), $"aigw:{{{agency}}}:caller:{subject}");

    /// <summary><c>aigw:{agency}:agency</c>.</summary>
    public static ScopeKeys ForAgency(string agency) =>
        s_agencies.TryGetValue(agency, out var keys) ? keys : Add(s_agencies, agency, $"aigw:{{{agency}}}:agency");

    /// <summary><c>aigw:{model:name}:model</c>: a model's capacity lives in a slot of its own.</summary>
    public static ScopeKeys ForModel(string model) =>
        s_models.TryGetValue(model, out var keys) ? keys : Add(s_models, model, $"aigw:{{model:{model}}}:model");

    /// <summary>The keys of any scope key (not cached: the off-request paths).</summary>
    public static ScopeKeys Of(string key) => new(key);

    private static ScopeKeys Add<TKey>(ConcurrentDictionary<TKey, ScopeKeys> cache, TKey lookup, string key)
        where TKey : notnull
    {
        if (Interlocked.Increment(ref s_count) > MaxCached)
        {
            Interlocked.Exchange(ref s_count, 0);
            s_callers.Clear();
        }

        return cache.GetOrAdd(lookup, new ScopeKeys(key));
    }
}

/// <summary>What a granted reservation holds, so it can be reconciled with the actual usage later.</summary>
internal sealed record LimitReservation(
    string LeaseId,
    IReadOnlyList<LimitScope> Scopes,
    long Tokens,
    long CostMicros,
    long BucketSecond,
    long Day,
    long Month,
    bool Local);

/// <summary>Remaining capacity of the tightest scope, for the x-ratelimit-* headers.</summary>
internal sealed record LimitHeadroom(long? RequestLimit, long? RemainingRequests, TimeSpan ResetRequests, long? TokenLimit, long? RemainingTokens, TimeSpan ResetTokens)
{
    public static LimitHeadroom None { get; } = new(null, null, TimeSpan.Zero, null, null, TimeSpan.Zero);
}

/// <summary>The answer of a reservation attempt.</summary>
internal sealed record LimitCheck(
    bool Allowed,
    LimitReservation? Reservation,
    LimitHeadroom Headroom,
    string? FailedScope = null,
    LimitMetric? FailedMetric = null,
    long? FailedLimit = null,
    TimeSpan RetryAfter = default);

/// <summary>Current counters of one scope, for the usage API.</summary>
internal sealed record ScopeUsage(string Scope, LimitSet Limits, long RequestsLastMinute, long TokensLastMinute, long InFlight, long TokensToday, long TokensThisMonth, long CostMicrosToday, long CostMicrosThisMonth);

/// <summary>The shared state store could not answer (down, timed out, or its circuit is open).</summary>
internal sealed class LimitStoreUnavailableException : Exception
{
    public LimitStoreUnavailableException()
    {
    }

    public LimitStoreUnavailableException(string message)
        : base(message)
    {
    }

    public LimitStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Two-phase limits: reserve an estimate for every scope of a request at once (all or nothing), then commit the
/// actual usage. Async-only; the Redis implementation takes one round trip per hash-tag slot, the embedded one
/// none. Time comes from the store (Redis <c>TIME</c>) or, embedded, from the injected <see cref="TimeProvider"/>.
/// </summary>
internal interface ILimitStore
{
    ValueTask<LimitCheck> ReserveAsync(IReadOnlyList<LimitScope> scopes, long tokens, long costMicros, CancellationToken cancellationToken);

    /// <summary>Replaces the reservation by the actual usage and ends the in-flight lease.</summary>
    ValueTask CommitAsync(LimitReservation reservation, long actualTokens, long actualCostMicros, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<ScopeUsage>> ReadAsync(IReadOnlyList<LimitScope> scopes, CancellationToken cancellationToken);
}

/// <summary>Calendar arithmetic shared by the stores (UTC days and months).</summary>
internal static class LimitPeriods
{
    /// <summary>How long an in-flight lease lives if its request never commits (a crashed replica).</summary>
    public static readonly TimeSpan LeaseLifetime = TimeSpan.FromMinutes(15);

    public static long DayOf(long unixSeconds) => Math.DivRem(unixSeconds, 86400, out var r) - (r < 0 ? 1 : 0);

    /// <summary>yyyymm of the UTC month containing <paramref name="unixSeconds"/>.</summary>
    public static long MonthOf(long unixSeconds)
    {
        var date = DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime;
        return (date.Year * 100L) + date.Month;
    }

    public static TimeSpan UntilNextDay(long unixSeconds) => TimeSpan.FromSeconds(86400 - (unixSeconds - (DayOf(unixSeconds) * 86400)));

    public static TimeSpan UntilNextMonth(long unixSeconds)
    {
        var date = DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime;
        var next = new DateTime(date.Year, date.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        return next - date;
    }
}
