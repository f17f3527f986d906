using System.Collections.Concurrent;

namespace AiGateway.RateLimiting;

/// <summary>
/// The single-node store: the same two-phase algorithm as <see cref="RedisLimitStore"/> (one-second buckets
/// over a sliding minute, UTC day and month budgets, in-flight leases), in process memory. Used by the demo and
/// small sites, and as the local fallback of a fail-open agency while Redis is down.
/// </summary>
internal sealed class EmbeddedLimitStore : ILimitStore
{
    private const int WindowSeconds = 60;

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Counters> _scopes = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public EmbeddedLimitStore(TimeProvider time) => _time = time;

    public ValueTask<LimitCheck> ReserveAsync(IReadOnlyList<LimitScope> scopes, long tokens, long costMicros, CancellationToken cancellationToken)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var second = nowMs / 1000;
        var day = LimitPeriods.DayOf(second);
        var month = LimitPeriods.MonthOf(second);
        var counters = new Counters[scopes.Count];
        for (var i = 0; i < scopes.Count; i++)
        {
            counters[i] = _scopes.GetOrAdd(scopes[i].Key, static _ => new Counters());
        }

        lock (_lock)
        {
            var headroom = LimitHeadroom.None;
            for (var i = 0; i < scopes.Count; i++)
            {
                var c = counters[i];
                var limits = scopes[i].Limits;
                c.Roll(second, day, month, nowMs);
                var (usedRequests, oldestRequest) = c.Sum(c.Requests, second);
                var (usedTokens, oldestToken) = c.Sum(c.Tokens, second);
                var failure =
                    Over(limits.RequestsPerMinute, usedRequests + 1, LimitMetric.RequestsPerMinute, Reset(oldestRequest, second))
                    ?? (usedTokens > 0 ? Over(limits.TokensPerMinute, usedTokens + tokens, LimitMetric.TokensPerMinute, Reset(oldestToken, second)) : null)
                    ?? Over(limits.ConcurrentRequests, c.Leases.Count + 1, LimitMetric.ConcurrentRequests, TimeSpan.FromSeconds(1))
                    ?? Exhausted(limits.TokensPerDay, c.TokensToday, LimitMetric.TokensPerDay, LimitPeriods.UntilNextDay(second))
                    ?? Exhausted(limits.TokensPerMonth, c.TokensThisMonth, LimitMetric.TokensPerMonth, LimitPeriods.UntilNextMonth(second))
                    ?? Exhausted(limits.CostMicrosPerDay, c.CostToday, LimitMetric.CostPerDay, LimitPeriods.UntilNextDay(second))
                    ?? Exhausted(limits.CostMicrosPerMonth, c.CostThisMonth, LimitMetric.CostPerMonth, LimitPeriods.UntilNextMonth(second));
                if (failure is { } f)
                {
                    return ValueTask.FromResult(new LimitCheck(false, null, headroom, scopes[i].Name, f.Metric, f.Limit, f.RetryAfter));
                }

                headroom = Tighter(headroom, limits, usedRequests + 1, Reset(oldestRequest, second), usedTokens + tokens, Reset(oldestToken, second));
            }

            var lease = Model.Uuid.NewHex();
            for (var i = 0; i < scopes.Count; i++)
            {
                var c = counters[i];
                c.Add(c.Requests, second, 1);
                c.Add(c.Tokens, second, tokens);
                c.Leases[lease] = nowMs + (long)LimitPeriods.LeaseLifetime.TotalMilliseconds;
                c.TokensToday += tokens;
                c.TokensThisMonth += tokens;
                c.CostToday += costMicros;
                c.CostThisMonth += costMicros;
            }

            return ValueTask.FromResult(new LimitCheck(true, new LimitReservation(lease, scopes, tokens, costMicros, second, day, month, Local: true), headroom));
        }
    }

    public ValueTask CommitAsync(LimitReservation reservation, long actualTokens, long actualCostMicros, CancellationToken cancellationToken)
    {
        var deltaTokens = actualTokens - reservation.Tokens;
        var deltaCost = actualCostMicros - reservation.CostMicros;
        lock (_lock)
        {
            foreach (var scope in reservation.Scopes)
            {
                if (!_scopes.TryGetValue(scope.Key, out var c))
                {
                    continue;
                }

                c.Leases.Remove(reservation.LeaseId);
                c.AddIfCurrent(c.Tokens, reservation.BucketSecond, deltaTokens);
                if (c.Day == reservation.Day)
                {
                    c.TokensToday += deltaTokens;
                    c.CostToday += deltaCost;
                }

                if (c.Month == reservation.Month)
                {
                    c.TokensThisMonth += deltaTokens;
                    c.CostThisMonth += deltaCost;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<ScopeUsage>> ReadAsync(IReadOnlyList<LimitScope> scopes, CancellationToken cancellationToken)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var second = nowMs / 1000;
        var result = new List<ScopeUsage>(scopes.Count);
        lock (_lock)
        {
            foreach (var scope in scopes)
            {
                var c = _scopes.GetOrAdd(scope.Key, static _ => new Counters());
                c.Roll(second, LimitPeriods.DayOf(second), LimitPeriods.MonthOf(second), nowMs);
                result.Add(new ScopeUsage(scope.Name, scope.Limits, c.Sum(c.Requests, second).Used, c.Sum(c.Tokens, second).Used, c.Leases.Count, c.TokensToday, c.TokensThisMonth, c.CostToday, c.CostThisMonth));
            }
        }

        return ValueTask.FromResult<IReadOnlyList<ScopeUsage>>(result);
    }

    private static (LimitMetric Metric, long Limit, TimeSpan RetryAfter)? Over(long? limit, long wouldBe, LimitMetric metric, TimeSpan retryAfter) =>
        limit is { } l && wouldBe > l ? (metric, l, retryAfter) : null;

    private static (LimitMetric Metric, long Limit, TimeSpan RetryAfter)? Exhausted(long? limit, long used, LimitMetric metric, TimeSpan retryAfter) =>
        limit is { } l && used >= l ? (metric, l, retryAfter) : null;

    private static TimeSpan Reset(long oldestSecond, long now) => TimeSpan.FromSeconds(Math.Max(1, oldestSecond + WindowSeconds - now));

    internal static LimitHeadroom Tighter(LimitHeadroom current, LimitSet limits, long requestsAfter, TimeSpan resetRequests, long tokensAfter, TimeSpan resetTokens)
    {
        var result = current;
        if (limits.RequestsPerMinute is { } rpm && (current.RemainingRequests is null || rpm - requestsAfter < current.RemainingRequests))
        {
            result = result with { RequestLimit = rpm, RemainingRequests = Math.Max(0, rpm - requestsAfter), ResetRequests = resetRequests };
        }

        if (limits.TokensPerMinute is { } tpm && (current.RemainingTokens is null || tpm - tokensAfter < current.RemainingTokens))
        {
            result = result with { TokenLimit = tpm, RemainingTokens = Math.Max(0, tpm - tokensAfter), ResetTokens = resetTokens };
        }

        return result;
    }

    private sealed class Counters
    {
        public readonly long[] Requests = new long[WindowSeconds];
        public readonly long[] Tokens = new long[WindowSeconds];
        public readonly long[] Stamps = new long[WindowSeconds];
        public readonly Dictionary<string, long> Leases = new(StringComparer.Ordinal);
        public long Day;
        public long Month;
        public long TokensToday;
        public long TokensThisMonth;
        public long CostToday;
        public long CostThisMonth;

        /// <summary>Starts new budget periods and drops expired leases.</summary>
        public void Roll(long second, long day, long month, long nowMs)
        {
            if (day != Day)
            {
                Day = day;
                TokensToday = 0;
                CostToday = 0;
            }

            if (month != Month)
            {
                Month = month;
                TokensThisMonth = 0;
                CostThisMonth = 0;
            }

            if (Leases.Count > 0)
            {
                foreach (var (lease, expiry) in Leases)
                {
                    if (expiry <= nowMs)
                    {
                        Leases.Remove(lease);
                    }
                }
            }
        }

        public (long Used, long Oldest) Sum(long[] buckets, long second)
        {
            long used = 0;
            var oldest = second;
            for (var i = 0; i < WindowSeconds; i++)
            {
                var stamp = Stamps[i];
                if (stamp > second - WindowSeconds && stamp <= second && buckets[i] != 0)
                {
                    used += buckets[i];
                    oldest = Math.Min(oldest, stamp);
                }
            }

            return (Math.Max(0, used), oldest);
        }

        public void Add(long[] buckets, long second, long amount)
        {
            var index = (int)(second % WindowSeconds);
            if (Stamps[index] != second)
            {
                Stamps[index] = second;
                Requests[index] = 0;
                Tokens[index] = 0;
            }

            buckets[index] += amount;
        }

        public void AddIfCurrent(long[] buckets, long second, long amount)
        {
            var index = (int)(second % WindowSeconds);
            if (Stamps[index] == second)
            {
                buckets[index] += amount;
            }
        }
    }
}
