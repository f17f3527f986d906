using System.Security.Claims;
using AiGateway.Identity;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Identity;

public sealed class ValidatedTokenCacheTests
{
    private static readonly object s_configuration = new();

    [Fact]
    public void Cached_token_is_a_hit_before_it_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var cache = new ValidatedTokenCache(time);
        cache.Add("t1", "s", s_configuration, Identity("alice"), time.GetUtcNow().AddMinutes(1));

        Assert.True(cache.TryGet("t1", "s", s_configuration, out var identity));
        Assert.Equal("alice", identity.FindFirst("sub")!.Value);
    }

    [Fact]
    public void Cached_token_stops_working_when_it_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var cache = new ValidatedTokenCache(time);
        cache.Add("t1", "s", s_configuration, Identity("alice"), time.GetUtcNow().AddSeconds(30));

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.True(cache.TryGet("t1", "s", s_configuration, out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet("t1", "s", s_configuration, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Entry_lives_at_most_five_minutes_even_for_a_long_lived_token()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var cache = new ValidatedTokenCache(time);
        cache.Add("t1", "s", s_configuration, Identity("alice"), time.GetUtcNow().AddHours(8));

        time.Advance(ValidatedTokenCache.MaxEntryLifetime - TimeSpan.FromSeconds(1));
        Assert.True(cache.TryGet("t1", "s", s_configuration, out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet("t1", "s", s_configuration, out _));
    }

    [Fact]
    public void Already_expired_token_is_not_cached()
    {
        var time = new FakeTimeProvider();
        var cache = new ValidatedTokenCache(time);
        cache.Add("t1", "s", s_configuration, Identity("alice"), time.GetUtcNow().AddSeconds(-1));

        Assert.False(cache.TryGet("t1", "s", s_configuration, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Refreshed_signing_key_configuration_invalidates_entries()
    {
        var time = new FakeTimeProvider();
        var cache = new ValidatedTokenCache(time);
        cache.Add("t1", "s", s_configuration, Identity("alice"), time.GetUtcNow().AddMinutes(1));

        Assert.False(cache.TryGet("t1", "s", new object(), out _));
        // The miss removed the entry: going back to the old configuration does not revive it.
        Assert.False(cache.TryGet("t1", "s", s_configuration, out _));
    }

    [Fact]
    public void Entries_are_per_scheme_and_per_exact_token()
    {
        var time = new FakeTimeProvider();
        var cache = new ValidatedTokenCache(time);
        cache.Add("t1", "s", s_configuration, Identity("alice"), time.GetUtcNow().AddMinutes(1));

        Assert.False(cache.TryGet("t1", "other-scheme", s_configuration, out _));
        Assert.False(cache.TryGet("t1x", "s", s_configuration, out _));
        Assert.False(cache.TryGet("t", "s", s_configuration, out _));
    }

    [Fact]
    public void Cache_is_bounded_and_sweeps_expired_entries_when_full()
    {
        var time = new FakeTimeProvider();
        var cache = new ValidatedTokenCache(time, capacity: 2);
        cache.Add("short", "s", s_configuration, Identity("a"), time.GetUtcNow().AddSeconds(10));
        cache.Add("long", "s", s_configuration, Identity("b"), time.GetUtcNow().AddMinutes(1));

        cache.Add("refused", "s", s_configuration, Identity("c"), time.GetUtcNow().AddMinutes(1));
        Assert.Equal(2, cache.Count);
        Assert.False(cache.TryGet("refused", "s", s_configuration, out _));

        time.Advance(TimeSpan.FromSeconds(11));
        cache.Add("after-sweep", "s", s_configuration, Identity("d"), time.GetUtcNow().AddMinutes(1));
        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet("after-sweep", "s", s_configuration, out _));
        Assert.True(cache.TryGet("long", "s", s_configuration, out _));
    }

    [Fact]
    public void Hit_returns_a_copy_so_requests_cannot_change_each_others_claims()
    {
        var time = new FakeTimeProvider();
        var cache = new ValidatedTokenCache(time);
        cache.Add("t1", "s", s_configuration, Identity("alice"), time.GetUtcNow().AddMinutes(1));

        Assert.True(cache.TryGet("t1", "s", s_configuration, out var first));
        first.AddClaim(new Claim("roles", "engineer"));
        Assert.True(cache.TryGet("t1", "s", s_configuration, out var second));

        Assert.Null(second.FindFirst("roles"));
    }

    private static ClaimsIdentity Identity(string subject) => new([new Claim("sub", subject)], "test");
}
