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
    /// <summary>The hash-tag part of the key: scopes with the same tag are checked in one atomic script.</summary>
    /// <remarks>Computed once: reservation, commit and their grouping ask for it several times per request.</remarks>
    public string Slot { get; } = Key[..(Key.IndexOf('}') + 1)];
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
