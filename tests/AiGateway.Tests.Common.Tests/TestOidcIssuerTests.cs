using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Tests.Common.Tests;

public sealed class TestOidcIssuerTests
{
    [Theory]
    [InlineData(TokenShape.EntraV2)]
    [InlineData(TokenShape.EntraV1)]
    [InlineData(TokenShape.GenericOidc)]
    public async Task Discovery_document_names_issuer_and_jwks_uri(TokenShape shape)
    {
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = shape });
        using var http = new HttpClient();

        using var discovery = JsonDocument.Parse(await http.GetStringAsync(issuer.MetadataAddress));

        Assert.Equal(issuer.Issuer, discovery.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(issuer.JwksUri.AbsoluteUri, discovery.RootElement.GetProperty("jwks_uri").GetString());
        Assert.Equal("RS256", discovery.RootElement.GetProperty("id_token_signing_alg_values_supported")[0].GetString());
        Assert.Equal(issuer.Issuer.TrimEnd('/') + "/.well-known/openid-configuration", issuer.MetadataAddress.AbsoluteUri);
        Assert.Equal(1, issuer.DiscoveryRequestCount);
        Assert.Equal(0, issuer.JwksRequestCount);
    }

    [Fact]
    public async Task Issuer_urls_follow_the_provider_shape()
    {
        await using var v2 = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { TenantId = "tenant-a" });
        await using var v1 = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { TenantId = "tenant-a", Shape = TokenShape.EntraV1 });
        await using var generic = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = TokenShape.GenericOidc });

        Assert.Equal($"http://127.0.0.1:{v2.BaseAddress.Port}/tenant-a/v2.0", v2.Issuer);
        Assert.Equal($"http://127.0.0.1:{v1.BaseAddress.Port}/tenant-a/", v1.Issuer);
        Assert.Equal($"http://127.0.0.1:{generic.BaseAddress.Port}/oidc", generic.Issuer);
        Assert.NotEqual(0, v2.BaseAddress.Port);
    }

    [Fact]
    public async Task Jwks_publishes_rsa_signing_keys()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();
        using var http = new HttpClient();

        using var jwks = JsonDocument.Parse(await http.GetStringAsync(issuer.JwksUri));

        var key = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.Equal(issuer.CurrentKeyId, key.GetProperty("kid").GetString());
        Assert.Equal("AQAB", key.GetProperty("e").GetString());
        Assert.Equal(256, Base64UrlEncoder.DecodeBytes(key.GetProperty("n").GetString()).Length);
        Assert.False(key.TryGetProperty("d", out _));
        Assert.Equal(1, issuer.JwksRequestCount);
    }

    [Fact]
    public async Task Unavailable_issuer_answers_503()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();
        using var http = new HttpClient();
        issuer.IsAvailable = false;

        using var response = await http.GetAsync(issuer.MetadataAddress);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, issuer.DiscoveryRequestCount);
    }

    [Theory]
    [InlineData(TokenShape.EntraV2)]
    [InlineData(TokenShape.EntraV1)]
    [InlineData(TokenShape.GenericOidc)]
    public async Task Valid_token_validates_against_discovered_configuration(TokenShape shape)
    {
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { Shape = shape });
        var relyingParty = new OidcValidation(issuer);

        var result = await relyingParty.ValidateAsync(issuer.Token().Subject("alice").Build());

        Assert.True(result.IsValid, result.Exception?.ToString());
        Assert.Equal("alice", result.Claims["sub"]);
        Assert.Equal(1, issuer.DiscoveryRequestCount);
        Assert.Equal(1, issuer.JwksRequestCount);
    }

    [Fact]
    public async Task Expired_token_is_rejected()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();

        var result = await new OidcValidation(issuer).ValidateAsync(issuer.Token().Expired().Build());

        Assert.IsType<SecurityTokenExpiredException>(result.Exception);
    }

    [Fact]
    public async Task Not_yet_valid_token_is_rejected()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();

        var result = await new OidcValidation(issuer).ValidateAsync(issuer.Token().NotYetValid().Build());

        Assert.IsType<SecurityTokenNotYetValidException>(result.Exception);
    }

    [Fact]
    public async Task Token_for_another_audience_is_rejected()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();

        var result = await new OidcValidation(issuer).ValidateAsync(issuer.Token().Audience("api://other").Build());

        Assert.IsType<SecurityTokenInvalidAudienceException>(result.Exception);
    }

    [Fact]
    public async Task Token_from_another_issuer_is_rejected()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();

        var result = await new OidcValidation(issuer).ValidateAsync(issuer.Token().Issuer("http://127.0.0.1:1/other/v2.0").Build());

        Assert.IsType<SecurityTokenInvalidIssuerException>(result.Exception);
    }

    [Fact]
    public async Task Unsigned_alg_none_token_is_rejected()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();
        var token = issuer.Token().UnsignedAlgNone().Build();

        var result = await new OidcValidation(issuer).ValidateAsync(token);

        Assert.Equal("none", new JsonWebToken(token).Alg);
        Assert.EndsWith(".", token, StringComparison.Ordinal);
        Assert.False(result.IsValid);
    }

    [Fact]
    public async Task Hs256_token_keyed_with_public_key_is_rejected()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();
        var token = issuer.Token().SignedHs256WithPublicKey().Build();

        var result = await new OidcValidation(issuer).ValidateAsync(token);

        Assert.False(result.IsValid);
        // The forgery is genuine: a relying party that took the public key as an HMAC secret would accept it.
        var confused = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer.Issuer,
            ValidAudience = JwtBuilder.DefaultAudience,
            IssuerSigningKey = new SymmetricSecurityKey(issuer.CurrentPublicKeyPem),
        });
        Assert.True(confused.IsValid, confused.Exception?.ToString());
        Assert.Equal("HS256", new JsonWebToken(token).Alg);
        Assert.Equal(issuer.CurrentKeyId, new JsonWebToken(token).Kid);
    }

    [Fact]
    public async Task Token_signed_with_unpublished_key_under_current_kid_is_rejected()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();
        var token = issuer.Token().SignedWithForeignKey().Build();

        var result = await new OidcValidation(issuer).ValidateAsync(token);

        Assert.IsType<SecurityTokenInvalidSignatureException>(result.Exception);
        Assert.Equal(issuer.CurrentKeyId, new JsonWebToken(token).Kid);
        Assert.Equal("RS256", new JsonWebToken(token).Alg);
    }

    [Fact]
    public async Task Rotated_key_validates_once_configuration_is_refreshed()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();
        var relyingParty = new OidcValidation(issuer);
        var oldKid = issuer.CurrentKeyId;
        var oldToken = issuer.Token().Build();
        Assert.True((await relyingParty.ValidateAsync(oldToken)).IsValid);

        var newKid = issuer.RotateKey();
        await relyingParty.RefreshUntilAsync(c => OidcValidation.HasKey(c, newKid));
        var newToken = issuer.Token().Build();

        Assert.Equal(newKid, issuer.CurrentKeyId);
        Assert.Equal(newKid, new JsonWebToken(newToken).Kid);
        Assert.Equal([oldKid, newKid], issuer.PublishedKeyIds);
        var newResult = await relyingParty.ValidateAsync(newToken);
        Assert.True(newResult.IsValid, newResult.Exception?.ToString());
        Assert.True((await relyingParty.ValidateAsync(oldToken)).IsValid); // both keys published during the rollover
    }

    [Fact]
    public async Task Removed_key_fails_once_configuration_is_refreshed()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();
        var relyingParty = new OidcValidation(issuer);
        var oldKid = issuer.CurrentKeyId;
        issuer.RotateKey();
        await relyingParty.RefreshUntilAsync(c => c.SigningKeys.Count == 2);
        Assert.True((await relyingParty.ValidateAsync(issuer.Token().SignWithKey(oldKid).Build())).IsValid);

        issuer.RemoveKey(oldKid);
        await relyingParty.RefreshUntilAsync(c => !OidcValidation.HasKey(c, oldKid));
        var result = await relyingParty.ValidateAsync(issuer.Token().SignWithKey(oldKid).Build());

        Assert.False(result.IsValid);
        Assert.IsAssignableFrom<SecurityTokenSignatureKeyNotFoundException>(result.Exception);
        Assert.DoesNotContain(oldKid, issuer.PublishedKeyIds);
        Assert.True((await relyingParty.ValidateAsync(issuer.Token().Build())).IsValid);
    }

    [Fact]
    public async Task Removed_key_is_still_accepted_through_last_known_good_configuration_by_default()
    {
        // Not a fixture defect: the library default a relying party (and JwtBearer) inherits. A gateway that must
        // stop trusting a removed key at once has to set UseLastKnownGoodConfiguration = false on its ConfigurationManager.
        await using var issuer = await TestOidcIssuer.StartAsync();
        var relyingParty = new OidcValidation(issuer, useLastKnownGood: true);
        var oldKid = issuer.CurrentKeyId;
        issuer.RotateKey();
        await relyingParty.RefreshUntilAsync(c => c.SigningKeys.Count == 2);
        Assert.True((await relyingParty.ValidateAsync(issuer.Token().SignWithKey(oldKid).Build())).IsValid);

        issuer.RemoveKey(oldKid);
        await relyingParty.RefreshUntilAsync(c => !OidcValidation.HasKey(c, oldKid));
        var result = await relyingParty.ValidateAsync(issuer.Token().SignWithKey(oldKid).Build());

        Assert.True(result.IsValid);
    }

    [Fact]
    public async Task Token_times_follow_the_issuer_clock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using var issuer = await TestOidcIssuer.StartAsync(new TestOidcIssuerOptions { TimeProvider = clock });

        var token = new JsonWebToken(issuer.Token().Build());

        Assert.Equal(clock.GetUtcNow().UtcDateTime, token.IssuedAt);
        Assert.Equal(clock.GetUtcNow().UtcDateTime, token.ValidFrom);
        Assert.Equal(clock.GetUtcNow().AddHours(1).UtcDateTime, token.ValidTo);
    }
}
