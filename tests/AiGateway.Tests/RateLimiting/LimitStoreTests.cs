using AiGateway.RateLimiting;
using AiGateway.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.RateLimiting;

/// <summary>The same behaviour from both stores: the embedded one and the Redis Lua scripts (real redis-server).</summary>
public sealed class LimitStoreTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 31, 23, 59, 0, TimeSpan.Zero));
    private RedisServer _redis = null!;
    private RedisLimitStore _redisStore = null!;
    private StackExchange.Redis.ConnectionMultiplexer _inspector = null!; // the tests' own view of Redis (admin: INFO, SCRIPT FLUSH)

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _redisStore = RedisLimitStore.Connect(_redis.ConnectionString, null, 1000, TimeSpan.FromSeconds(1), NullLogger<RedisLimitStore>.Instance, _clock);
        _inspector = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        await _inspector.DisposeAsync();
        await _redisStore.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private ILimitStore Store(string kind) => kind == "redis" ? _redisStore : new EmbeddedLimitStore(_clock);

    private static LimitScope Scope(LimitSet limits) => new($"aigw:{{t}}:caller:{Guid.NewGuid():N}", "caller", limits);

    private static LimitSet Limits(long? rpm = null, long? tpm = null, long? concurrent = null, long? tpd = null, long? tmo = null, long? cpd = null) =>
        new(rpm, tpm, concurrent, tpd, tmo, cpd, null);

    [Theory]
    [InlineData("embedded")]
    [InlineData("redis")]
    public async Task Requests_per_minute_refuse_the_next_request_and_slide(string kind)
    {
        var store = Store(kind);
        var scope = Scope(Limits(rpm: 2));

        Assert.True((await store.ReserveAsync([scope], 1, 0, default)).Allowed);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True((await store.ReserveAsync([scope], 1, 0, default)).Allowed);
        var refused = await store.ReserveAsync([scope], 1, 0, default);
        Assert.False(refused.Allowed);
        Assert.Equal(LimitMetric.RequestsPerMinute, refused.FailedMetric);
        Assert.Equal(TimeSpan.FromSeconds(50), refused.RetryAfter); // the first request leaves the window in 50 s

        _clock.Advance(TimeSpan.FromSeconds(51));
        Assert.True((await store.ReserveAsync([scope], 1, 0, default)).Allowed);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("redis")]
    public async Task First_request_larger_than_the_token_limit_is_admitted_but_blocks_the_next(string kind)
    {
        var store = Store(kind);
        var scope = Scope(Limits(tpm: 100));

        Assert.True((await store.ReserveAsync([scope], 5000, 0, default)).Allowed);
        var second = await store.ReserveAsync([scope], 10, 0, default);
        Assert.False(second.Allowed);
        Assert.Equal(LimitMetric.TokensPerMinute, second.FailedMetric);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("redis")]
    public async Task Commit_replaces_the_reservation_by_the_actual_usage(string kind)
    {
        var store = Store(kind);
        var scope = Scope(Limits(tpm: 1000, tpd: 100000));

        var first = await store.ReserveAsync([scope], 900, 0, default);
        Assert.False((await store.ReserveAsync([scope], 200, 0, default)).Allowed);
        await store.CommitAsync(first.Reservation!, 100, 0, default);

        Assert.True((await store.ReserveAsync([scope], 200, 0, default)).Allowed);
        var usage = (await store.ReadAsync([scope], default))[0];
        Assert.Equal(300, usage.TokensToday);
        Assert.Equal(300, usage.TokensLastMinute);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("redis")]
    public async Task Concurrency_lease_is_released_by_commit(string kind)
    {
        var store = Store(kind);
        var scope = Scope(Limits(concurrent: 1));

        var first = await store.ReserveAsync([scope], 1, 0, default);
        var blocked = await store.ReserveAsync([scope], 1, 0, default);
        await store.CommitAsync(first.Reservation!, 1, 0, default);
        var after = await store.ReserveAsync([scope], 1, 0, default);

        Assert.False(blocked.Allowed);
        Assert.Equal(LimitMetric.ConcurrentRequests, blocked.FailedMetric);
        Assert.True(after.Allowed);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("redis")]
    public async Task Daily_and_monthly_budgets_roll_over_at_utc_period_boundaries(string kind)
    {
        var store = Store(kind);
        var daily = Scope(Limits(tpd: 100));
        var monthly = Scope(Limits(tmo: 100));

        Assert.True((await store.ReserveAsync([daily], 100, 0, default)).Allowed);
        Assert.True((await store.ReserveAsync([monthly], 100, 0, default)).Allowed);
        var dayRefusal = await store.ReserveAsync([daily], 1, 0, default);
        Assert.False(dayRefusal.Allowed);
        Assert.Equal(LimitMetric.TokensPerDay, dayRefusal.FailedMetric);
        Assert.Equal(TimeSpan.FromSeconds(60), dayRefusal.RetryAfter); // 23:59 → midnight
        Assert.False((await store.ReserveAsync([monthly], 1, 0, default)).Allowed);

        // 2026-01-31 23:59 + 2 min = 2026-02-01 00:01: a new day and a new month.
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True((await store.ReserveAsync([daily], 1, 0, default)).Allowed);
        Assert.True((await store.ReserveAsync([monthly], 1, 0, default)).Allowed);

        // Still February the next day: the monthly budget keeps its count, the daily one renews.
        _clock.Advance(TimeSpan.FromDays(1));
        var usage = (await store.ReadAsync([daily, monthly], default));
        Assert.Equal(0, usage[0].TokensToday);
        Assert.Equal(1, usage[1].TokensThisMonth);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("redis")]
    public async Task Cost_budget_counts_micro_dollars(string kind)
    {
        var store = Store(kind);
        var scope = Scope(Limits(cpd: 1_000_000)); // $1 per day

        Assert.True((await store.ReserveAsync([scope], 10, 999_999, default)).Allowed);
        Assert.True((await store.ReserveAsync([scope], 10, 1, default)).Allowed);
        var refused = await store.ReserveAsync([scope], 10, 1, default);

        Assert.False(refused.Allowed);
        Assert.Equal(LimitMetric.CostPerDay, refused.FailedMetric);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("redis")]
    public async Task Refusal_in_one_scope_reserves_nothing_in_the_others(string kind)
    {
        var store = Store(kind);
        var caller = Scope(Limits(rpm: 10));
        var agency = new LimitScope(caller.Key.Replace(":caller:", ":agency:", StringComparison.Ordinal), "agency", Limits(rpm: 0));

        var refused = await store.ReserveAsync([caller, agency], 1, 0, default);
        var usage = await store.ReadAsync([caller], default);

        Assert.False(refused.Allowed);
        Assert.Equal("agency", refused.FailedScope);
        Assert.Equal(0, usage[0].RequestsLastMinute);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Redis_sliding_window_matches_the_embedded_store_over_a_random_run(int seed)
    {
        // The Redis window keeps running sums and evicts only what left the minute; the embedded store sums every
        // bucket. Same requests, commits and clock steps (sub-second to over a minute): same decisions and headroom.
        var random = new Random(seed);
        var embedded = new EmbeddedLimitStore(_clock);
        var key = Scope(Limits()).Key;
        var limits = Limits(rpm: 12, tpm: 4000);
        var scope = new LimitScope(key, "caller", limits);
        var open = new List<(LimitReservation Redis, LimitReservation Embedded)>();
        for (var step = 0; step < 400; step++)
        {
            AdvanceRandomly(random);
            if (open.Count > 0 && random.Next(3) == 0)
            {
                var (r, e) = open[random.Next(open.Count)];
                open.Remove((r, e));
                var actual = random.Next(0, 600);
                await _redisStore.CommitAsync(r, actual, 0, default);
                await embedded.CommitAsync(e, actual, 0, default);
                continue;
            }

            var tokens = random.Next(1, 700);
            var viaRedis = await _redisStore.ReserveAsync([scope], tokens, 0, default);
            var viaEmbedded = await embedded.ReserveAsync([scope], tokens, 0, default);
            Assert.True(viaEmbedded.Allowed == viaRedis.Allowed, $"step {step}: embedded {viaEmbedded.Allowed} {viaEmbedded.FailedMetric}, redis {viaRedis.Allowed} {viaRedis.FailedMetric}");
            Assert.Equal(viaEmbedded.FailedMetric, viaRedis.FailedMetric);
            Assert.Equal(viaEmbedded.RetryAfter, viaRedis.RetryAfter);
            Assert.Equal(viaEmbedded.Headroom, viaRedis.Headroom);
            if (viaRedis.Allowed)
            {
                open.Add((viaRedis.Reservation!, viaEmbedded.Reservation!));
            }

            var usage = (await _redisStore.ReadAsync([scope], default))[0];
            var expected = (await embedded.ReadAsync([scope], default))[0];
            Assert.Equal(expected.RequestsLastMinute, usage.RequestsLastMinute);
            Assert.Equal(expected.TokensLastMinute, usage.TokensLastMinute);
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Redis_matches_the_embedded_store_with_concurrency_and_budgets_in_two_scopes(int seed)
    {
        // As above across a UTC day and month boundary, with every metric: two scopes (one without a concurrency limit),
        // leases, token and cost budgets, reconciliations up and down. Same decisions, headroom and usage throughout.
        var random = new Random(seed);
        var embedded = new EmbeddedLimitStore(_clock);
        LimitScope[] scopes =
        [
            new(Scope(Limits()).Key, "caller", Limits(rpm: 12, tpm: 4000, concurrent: 3, tpd: 30_000, cpd: 9_000)),
            new(Scope(Limits()).Key, "agency", new LimitSet(20, 9000, null, null, 200_000, null, 60_000)),
        ];
        var open = new List<(LimitReservation Redis, LimitReservation Embedded)>();
        for (var step = 0; step < 300; step++)
        {
            AdvanceRandomly(random);
            if (open.Count > 0 && random.Next(3) == 0)
            {
                var (r, e) = open[random.Next(open.Count)];
                open.Remove((r, e));
                var (actual, cost) = (random.Next(0, 900), random.Next(0, 400));
                await _redisStore.CommitAsync(r, actual, cost, default);
                await embedded.CommitAsync(e, actual, cost, default);
            }
            else
            {
                var (tokens, cost) = (random.Next(1, 700), random.Next(0, 300));
                var viaRedis = await _redisStore.ReserveAsync(scopes, tokens, cost, default);
                var viaEmbedded = await embedded.ReserveAsync(scopes, tokens, cost, default);
                Assert.True(viaEmbedded.Allowed == viaRedis.Allowed, $"step {step}: embedded {viaEmbedded.Allowed} {viaEmbedded.FailedMetric}, redis {viaRedis.Allowed} {viaRedis.FailedMetric}");
                Assert.Equal(viaEmbedded.FailedScope, viaRedis.FailedScope);
                Assert.Equal(viaEmbedded.FailedMetric, viaRedis.FailedMetric);
                Assert.Equal(viaEmbedded.Headroom, viaRedis.Headroom);
                if (viaRedis.Allowed)
                {
                    open.Add((viaRedis.Reservation!, viaEmbedded.Reservation!));
                }
            }

            var usage = await _redisStore.ReadAsync(scopes, default);
            var expected = await embedded.ReadAsync(scopes, default);
            Assert.Equal(expected, usage);
        }
    }

    [Fact]
    public async Task Redis_window_written_by_an_earlier_version_is_counted_once_and_cleaned()
    {
        // Earlier versions kept only the buckets (no running sums): an upgrade must neither forget nor double-count them.
        var scope = Scope(Limits(rpm: 5, tpm: 1000));
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var db = _inspector.GetDatabase();
        await db.HashSetAsync(scope.Key + ":w", [new($"r:{now - 10}", 3), new($"t:{now - 10}", 600), new($"r:{now - 90}", 7), new($"t:{now - 90}", 900)]);

        var check = await _redisStore.ReserveAsync([scope], 100, 0, default);

        Assert.True(check.Allowed);
        Assert.Equal(1, check.Headroom.RemainingRequests); // 5 - (3 earlier + this one)
        Assert.Equal(300, check.Headroom.RemainingTokens); // 1000 - (600 + 100)
        Assert.Equal(TimeSpan.FromSeconds(50), check.Headroom.ResetRequests);
        Assert.False(await db.HashExistsAsync(scope.Key + ":w", $"r:{now - 90}"));
        var usage = (await _redisStore.ReadAsync([scope], default))[0];
        Assert.Equal(4, usage.RequestsLastMinute);
        Assert.Equal(700, usage.TokensLastMinute);
    }

    [Fact]
    public async Task Redis_window_with_running_sums_but_the_current_second_as_a_bucket_is_converted_once()
    {
        // The layout before the current second moved into C / CR / CT: sums, E, OR / OT and a bucket for every second.
        var scope = Scope(Limits(rpm: 10, tpm: 2000));
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var db = _inspector.GetDatabase();
        await db.HashSetAsync(scope.Key + ":w",
        [
            new("R", 5), new("T", 900), new("E", now - 59), new("OR", now - 10), new("OT", now - 10),
            new($"r:{now - 10}", 3), new($"t:{now - 10}", 600), new($"r:{now}", 2), new($"t:{now}", 300),
        ]);

        var check = await _redisStore.ReserveAsync([scope], 100, 0, default);

        Assert.True(check.Allowed);
        Assert.Equal(10 - 6, check.Headroom.RemainingRequests);
        Assert.Equal(2000 - 900 - 100, check.Headroom.RemainingTokens);
        Assert.False(await db.HashExistsAsync(scope.Key + ":w", $"r:{now}"));
        Assert.Equal(3, (long)await db.HashGetAsync(scope.Key + ":w", "CR"));

        // The next second: the current second becomes a bucket again, and 50 s later the older one leaves the window.
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await _redisStore.ReserveAsync([scope], 100, 0, default)).Allowed);
        Assert.Equal(3, (long)await db.HashGetAsync(scope.Key + ":w", $"r:{now}"));
        _clock.Advance(TimeSpan.FromSeconds(50));
        var usage = (await _redisStore.ReadAsync([scope], default))[0];
        Assert.Equal(4, usage.RequestsLastMinute);
        Assert.Equal(300 + 100 + 100, usage.TokensLastMinute);
    }

    [Fact]
    public async Task Redis_window_counts_a_previous_version_replica_writing_the_current_second_as_a_bucket()
    {
        // Rolling upgrade: a replica of the previous version adds its requests to r:<now> / t:<now> and to R / T while
        // this version holds the same second in CR / CT. When the second moves, both must be in the bucket.
        var scope = Scope(Limits(rpm: 100, tpm: 100_000));
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var db = _inspector.GetDatabase();
        Assert.True((await _redisStore.ReserveAsync([scope], 100, 0, default)).Allowed);
        await db.HashIncrementAsync(scope.Key + ":w", $"r:{now}", 2); // the old replica's two requests …
        await db.HashIncrementAsync(scope.Key + ":w", $"t:{now}", 500);
        await db.HashIncrementAsync(scope.Key + ":w", "R", 2); // … and its running sums
        await db.HashIncrementAsync(scope.Key + ":w", "T", 500);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await _redisStore.ReserveAsync([scope], 100, 0, default)).Allowed);

        Assert.Equal(3, (long)await db.HashGetAsync(scope.Key + ":w", $"r:{now}"));
        Assert.Equal(600, (long)await db.HashGetAsync(scope.Key + ":w", $"t:{now}"));
        _clock.Advance(TimeSpan.FromSeconds(59)); // r:<now> leaves the window: everything it held is subtracted
        var usage = (await _redisStore.ReadAsync([scope], default))[0];
        Assert.Equal(1, usage.RequestsLastMinute);
        Assert.Equal(100, usage.TokensLastMinute);
    }

    [Fact]
    public async Task Redis_commit_rides_on_the_next_reservation_instead_of_its_own_round_trip()
    {
        var scope = Scope(Limits(concurrent: 1, tpm: 10_000));
        var server = _inspector.GetServer(_inspector.GetEndPoints()[0]);
        await _redisStore.ReserveAsync([Scope(Limits(rpm: 5))], 1, 0, default); // loads the script (EVALSHA → NOSCRIPT → EVAL)
        var before = await ScriptCallsAsync(server);

        var first = await _redisStore.ReserveAsync([scope], 500, 0, default);
        await _redisStore.CommitAsync(first.Reservation!, 120, 0, default);
        var second = await _redisStore.ReserveAsync([scope], 500, 0, default); // carries the commit: lease released, 120 counted

        Assert.True(second.Allowed);
        Assert.Equal(10_000 - 120 - 500, second.Headroom.RemainingTokens);
        Assert.Equal(2, await ScriptCallsAsync(server) - before);
    }

    [Fact]
    public async Task Redis_commit_carried_by_its_scopes_next_reservation_costs_no_commands_of_its_own()
    {
        // The common case, a caller's next request: the reconciliation rides on the reservation's own reads and writes of
        // the same keys (was: its own HMGET + HSET of the window and of the budget, its ZREM, and an expiry for the
        // in-flight set it had emptied — 10 commands for one scope instead of 6).
        var scope = Scope(Limits(rpm: 100, tpm: 10_000, tpd: 100_000));
        var server = _inspector.GetServer(_inspector.GetEndPoints()[0]);
        var first = await _redisStore.ReserveAsync([scope], 500, 0, default);
        var before = await CommandCallsAsync(server);

        await _redisStore.CommitAsync(first.Reservation!, 120, 0, default);
        var second = await _redisStore.ReserveAsync([scope], 500, 0, default); // same second: carries the commit

        var after = await CommandCallsAsync(server);
        var calls = after.Where(c => c.Key != "info" && c.Value != before.GetValueOrDefault(c.Key))
            .ToDictionary(c => c.Key, c => c.Value - before.GetValueOrDefault(c.Key));
        Assert.True(second.Allowed);
        Assert.Equal(10_000 - 120 - 500, second.Headroom.RemainingTokens);
        var db = _inspector.GetDatabase();
        Assert.Equal(second.Reservation!.LeaseId, (await db.SortedSetRangeByRankAsync(scope.Key + ":f")).Single());
        Assert.Equal(120 + 500, (long)await db.HashGetAsync(scope.Key + ":b", $"td:{_clock.GetUtcNow().ToUnixTimeSeconds() / 86400}"));
        Assert.NotNull(await db.KeyTimeToLiveAsync(scope.Key + ":f"));
        Assert.Equal(new Dictionary<string, long> { ["evalsha"] = 1, ["hmget"] = 2, ["hset"] = 2, ["zadd"] = 1, ["zrem"] = 1 }, calls);
    }

    [Fact]
    public async Task Redis_refusal_that_carries_a_commit_leaves_no_key_without_an_expiry()
    {
        // A long request (its second has left the minute) used more than the day's budget; the caller's next request
        // carries its reconciliation and is refused by it. A refused reservation must not create a key that never expires.
        _clock.Advance(TimeSpan.FromHours(1)); // away from the day boundary of the fixture's clock
        var scope = Scope(Limits(rpm: 100, tpd: 1000));
        var first = (await _redisStore.ReserveAsync([scope], 500, 0, default)).Reservation!;
        _clock.Advance(TimeSpan.FromSeconds(90));
        await _redisStore.CommitAsync(first, 1200, 0, default);

        var refused = await _redisStore.ReserveAsync([scope], 100, 0, default);

        Assert.False(refused.Allowed);
        Assert.Equal(LimitMetric.TokensPerDay, refused.FailedMetric);
        var db = _inspector.GetDatabase();
        foreach (var suffix in new[] { ":w", ":b", ":f" })
        {
            if (await db.KeyExistsAsync(scope.Key + suffix))
            {
                Assert.True(await db.KeyTimeToLiveAsync(scope.Key + suffix) is not null, $"{suffix} has no expiry");
            }
        }

        Assert.Equal(1200, (await _redisStore.ReadAsync([scope], default))[0].TokensToday);
    }

    [Fact]
    public async Task Redis_commit_no_reservation_carries_is_sent_within_the_delay()
    {
        var scope = Scope(Limits(concurrent: 5, tpm: 10_000));
        var check = await _redisStore.ReserveAsync([scope], 500, 0, default);
        await _redisStore.CommitAsync(check.Reservation!, 80, 0, default);

        var db = _inspector.GetDatabase();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await db.SortedSetLengthAsync(scope.Key + ":f") > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, await db.SortedSetLengthAsync(scope.Key + ":f"));
        Assert.Equal(80, (long)await db.HashGetAsync(scope.Key + ":w", "T"));
    }

    [Fact]
    public async Task Redis_scripts_run_by_digest_and_are_loaded_again_after_a_script_flush()
    {
        var scope = Scope(Limits(rpm: 100, tpm: 10_000));
        var server = _inspector.GetServer(_inspector.GetEndPoints()[0]);
        await server.ScriptFlushAsync(); // as after a Redis restart: the gateway's first EVALSHA gets NOSCRIPT

        var first = await _redisStore.ReserveAsync([scope], 100, 0, default);
        var evalBefore = await ScriptCallsAsync(server, "eval");
        var shaBefore = await ScriptCallsAsync(server, "evalsha");
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await _redisStore.ReserveAsync([scope], 100, 0, default)).Allowed);
        }

        Assert.True(first.Allowed);
        Assert.Equal(3, await ScriptCallsAsync(server, "evalsha") - shaBefore);
        Assert.Equal(0, await ScriptCallsAsync(server, "eval") - evalBefore);
        Assert.Equal(4 * 100, (await _redisStore.ReadAsync([scope], default))[0].TokensLastMinute);
    }

    private static async Task<long> ScriptCallsAsync(StackExchange.Redis.IServer server, string? only = null)
    {
        var calls = await CommandCallsAsync(server);
        return only is null ? calls.GetValueOrDefault("evalsha") + calls.GetValueOrDefault("eval") : calls.GetValueOrDefault(only);
    }

    /// <summary>Calls per command (<c>INFO commandstats</c>, which also counts the commands run inside scripts).</summary>
    private static async Task<Dictionary<string, long>> CommandCallsAsync(StackExchange.Redis.IServer server)
    {
        var calls = new Dictionary<string, long>();
        foreach (var group in await server.InfoAsync("commandstats"))
        {
            foreach (var (key, value) in group)
            {
                calls[key["cmdstat_".Length..]] = long.Parse(value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return calls;
    }

    /// <summary>Sub-second steps mostly, some of seconds, and now and then more than the minute window.</summary>
    private void AdvanceRandomly(Random random) =>
        _clock.Advance(TimeSpan.FromMilliseconds(random.Next(10) switch { < 6 => random.Next(1, 900), < 9 => random.Next(1_000, 8_000), _ => random.Next(30_000, 75_000) }));

    [Fact]
    public async Task Redis_keys_all_expire()
    {
        var scope = Scope(Limits(rpm: 10, tpd: 1000));
        var reservation = (await _redisStore.ReserveAsync([scope], 5, 5, default)).Reservation!;
        await _redisStore.CommitAsync(reservation, 5, 5, default);

        // Within the same second (expiries are refreshed when the window moves): the commit empties and so deletes the
        // in-flight set, this reservation creates it again; it must get an expiry of its own.
        Assert.True((await _redisStore.ReserveAsync([scope], 5, 5, default)).Allowed);

        var db = _inspector.GetDatabase();
        foreach (var suffix in new[] { ":w", ":b", ":f" })
        {
            var ttl = await db.KeyTimeToLiveAsync(scope.Key + suffix);
            Assert.NotNull(ttl);
        }
    }

    [Fact]
    public async Task Dead_redis_fails_fast_while_the_circuit_is_open()
    {
        var scope = Scope(Limits(rpm: 10));
        await _redis.KillAsync();

        await AssertOpensAfterFailuresInARowAsync(scope);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<LimitStoreUnavailableException>(async () => await _redisStore.ReserveAsync([scope], 1, 0, default));
        var openCircuitCall = started.Elapsed;

        await _redis.RestartAsync();
        Assert.True(await ReservedOnceRedisAnswersAsync(scope));
        Assert.True(openCircuitCall < TimeSpan.FromMilliseconds(900), "an open circuit must not wait for the Redis timeout"); // the timeout is 1000 ms
    }

    [Fact]
    public async Task The_circuit_opens_after_failures_in_a_row_not_after_one()
    {
        var scope = Scope(Limits(rpm: 10));
        await _redis.KillAsync();

        await AssertOpensAfterFailuresInARowAsync(scope);
        await _redis.RestartAsync();
    }

    [Fact]
    public async Task A_success_starts_the_count_of_failures_over()
    {
        var scope = Scope(Limits(rpm: 100));
        await _redis.KillAsync();
        for (var i = 0; i < RedisLimitStore.FailuresToOpen - 1; i++)
        {
            await Assert.ThrowsAsync<LimitStoreUnavailableException>(async () => await _redisStore.ReserveAsync([scope], 1, 0, default));
        }

        await _redis.RestartAsync();
        Assert.True(await ReservedOnceRedisAnswersAsync(scope));

        // Had the earlier failures still counted, the circuit would open on the first of these and refuse the second.
        await _redis.KillAsync();
        await AssertOpensAfterFailuresInARowAsync(scope);
        await _redis.RestartAsync();
    }

    /// <summary>With Redis down: each of the first calls reaches for Redis (the failure is Redis's), the next is refused by the open circuit.</summary>
    private async Task AssertOpensAfterFailuresInARowAsync(LimitScope scope)
    {
        for (var i = 0; i < RedisLimitStore.FailuresToOpen; i++)
        {
            var failed = await Assert.ThrowsAsync<LimitStoreUnavailableException>(async () => await _redisStore.ReserveAsync([scope], 1, 0, default));
            Assert.NotNull(failed.InnerException);
        }

        var refused = await Assert.ThrowsAsync<LimitStoreUnavailableException>(async () => await _redisStore.ReserveAsync([scope], 1, 0, default));
        Assert.Null(refused.InnerException);
        Assert.Contains("circuit is open", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Retries a reservation while the store reconnects (or its circuit is open); true once Redis allowed one.</summary>
    private async Task<bool> ReservedOnceRedisAnswersAsync(LimitScope scope)
    {
        for (var i = 0; i < 50; i++)
        {
            try
            {
                if ((await _redisStore.ReserveAsync([scope], 1, 0, default)).Allowed)
                {
                    return true;
                }
            }
            catch (LimitStoreUnavailableException)
            {
                await Task.Delay(200);
            }
        }

        return false;
    }
}
