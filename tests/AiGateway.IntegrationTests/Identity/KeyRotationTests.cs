using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Identity;

public sealed class KeyRotationTests
{
    [Fact]
    public async Task Token_signed_with_a_rotated_in_key_is_accepted_without_restart()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await TokenValidationTests.StartGatewayAsync(simulator, issuer);
        using (var first = await GatewayCalls.ChatAsync(gateway, issuer.Token().Roles("analyst").Build()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var fetchesBefore = issuer.JwksRequestCount;
        var newKid = issuer.RotateKey();
        var token = issuer.Token().Roles("analyst").Build();
        Assert.Contains(newKid, issuer.PublishedKeyIds);

        // The unknown kid makes the gateway refetch the JWKS (bounded by the 1 s refresh floor in tests).
        var status = await PollStatusAsync(gateway, token, HttpStatusCode.OK, TimeSpan.FromSeconds(15));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(issuer.JwksRequestCount > fetchesBefore, "the new key must have been fetched from the JWKS");
    }

    [Fact]
    public async Task Token_signed_with_a_removed_key_is_refused_after_the_refresh_interval()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await TokenValidationTests.StartGatewayAsync(simulator, issuer);
        var oldKid = issuer.CurrentKeyId;
        var oldToken = issuer.Token().Roles("analyst").Build();
        using (var before = await GatewayCalls.ChatAsync(gateway, oldToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        issuer.RotateKey();
        issuer.RemoveKey(oldKid);
        // A token of the new key makes the gateway refresh its keys; after that the old key is gone.
        var newToken = issuer.Token().Roles("analyst").Build();
        Assert.Equal(HttpStatusCode.OK, await PollStatusAsync(gateway, newToken, HttpStatusCode.OK, TimeSpan.FromSeconds(15)));

        var status = await PollStatusAsync(gateway, issuer.Token().SignWithKey(oldKid).Roles("analyst").Build(), HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        // The very token that worked before the removal is refused too.
        using var replay = await GatewayCalls.ChatAsync(gateway, oldToken);
        GatewayCalls.AssertInvalidTokenChallenge(replay);
    }

    /// <summary>Sends the token until the status is <paramref name="wanted"/> or the deadline passes; returns the last status.</summary>
    internal static async Task<HttpStatusCode> PollStatusAsync(TestGateway gateway, string token, HttpStatusCode wanted, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var response = await GatewayCalls.ChatAsync(gateway, token);
            if (response.StatusCode == wanted || DateTime.UtcNow > deadline)
            {
                return response.StatusCode;
            }

            await Task.Delay(200);
        }
    }
}
