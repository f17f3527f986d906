using AiGateway.RateLimiting;

namespace AiGateway.Tests.RateLimiting;

public sealed class ScopeKeysTests
{
    [Fact]
    public void A_callers_keys_are_built_once_and_share_the_agencys_hash_tag()
    {
        var keys = ScopeKeys.ForCaller("demo", "alice");

        Assert.Same(keys, ScopeKeys.ForCaller("demo", "alice"));
        Assert.Equal("aigw:{demo}:caller:alice", keys.Key);
        Assert.Equal("aigw:{demo}", keys.Slot);
        Assert.Equal(["aigw:{demo}:caller:alice:w", "aigw:{demo}:caller:alice:b", "aigw:{demo}:caller:alice:f"], [keys.Window, keys.Budget, keys.InFlight]);
        Assert.Equal(keys.Slot, ScopeKeys.ForAgency("demo").Slot);
        Assert.Equal("aigw:{model:gpt-4o}", ScopeKeys.ForModel("gpt-4o").Slot);
        Assert.NotEqual(keys, ScopeKeys.ForCaller("other", "alice"));
    }

    [Fact]
    public void A_scope_is_equal_whether_its_keys_came_from_the_cache_or_from_its_key()
    {
        var limits = new LimitSet(60, 20_000, null, null, null, null, null);
        var cached = new LimitScope(ScopeKeys.ForCaller("demo", "bob"), "caller", limits);
        var plain = new LimitScope("aigw:{demo}:caller:bob", "caller", limits);

        Assert.Equal(plain, cached);
        Assert.Equal(plain.GetHashCode(), cached.GetHashCode());
        Assert.Equal(plain.Keys.Window, cached.Keys.Window);
        Assert.NotEqual(plain, cached with { Name = "agency" });
        Assert.Equal("aigw:{demo}:caller:carol:w", (cached with { Key = "aigw:{demo}:caller:carol" }).Keys.Window);
    }
}
