using System.Net;
using AiGateway.Identity;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.IntegrationTests.Identity;

public sealed class ValidatedTokenCacheTests
{
    [Fact]
    public async Task Repeated_token_is_served_from_the_validated_token_cache()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await TokenValidationTests.StartGatewayAsync(simulator, issuer);
        var cache = gateway.App.Services.GetRequiredService<ValidatedTokenCache>();
        var token = issuer.Token().Roles("analyst").Build();

        using var first = await GatewayCalls.ChatAsync(gateway, token);
        Assert.Equal(1, cache.Count);
        using var second = await GatewayCalls.ChatAsync(gateway, token);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task Cached_token_stops_working_from_the_cache_when_it_expires()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await TokenValidationTests.StartGatewayAsync(simulator, issuer);
        var cache = gateway.App.Services.GetRequiredService<ValidatedTokenCache>();
        var now = DateTimeOffset.UtcNow;
        var expires = now.AddSeconds(10); // long enough that a slow first request (cold JWKS fetch on a busy machine) still lands before exp
        var token = issuer.Token().Lifetime(now.AddSeconds(-1), expires).Roles("analyst").Build();

        using (var fresh = await GatewayCalls.ChatAsync(gateway, token))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }

        Assert.Equal(1, cache.Count);
        var deadline = expires.AddSeconds(10);
        while (DateTimeOffset.UtcNow <= expires.AddMilliseconds(100) && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        // Past exp the entry is gone; only full validation (exp + the 60 s clock skew) still decides, and it does not re-cache.
        using var expired = await GatewayCalls.ChatAsync(gateway, token);
        Assert.Equal(HttpStatusCode.OK, expired.StatusCode);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task Token_past_exp_but_within_clock_skew_is_never_cached()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await TokenValidationTests.StartGatewayAsync(simulator, issuer);
        var cache = gateway.App.Services.GetRequiredService<ValidatedTokenCache>();
        var now = DateTimeOffset.UtcNow;
        var token = issuer.Token().Lifetime(now.AddMinutes(-10), now.AddSeconds(-20)).Roles("analyst").Build();

        using var response = await GatewayCalls.ChatAsync(gateway, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, cache.Count);
    }
}
