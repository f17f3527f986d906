using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Tests.Common.Tests;

public sealed class JwtBuilderTests
{
    private static JsonElement Payload(string token) =>
        JsonDocument.Parse(Base64UrlEncoder.Decode(token.Split('.')[1])).RootElement;

    [Fact]
    public void Entra_v2_user_token_carries_entra_claims()
    {
        var builder = JwtBuilder.ForIssuer("https://login.test/t1/v2.0", NewKey(), TokenShape.EntraV2, tenantId: "t1");

        var payload = Payload(builder.Subject("u1").Name("Alice").PreferredUsername("alice@contoso.test")
            .Roles("Gateway.User", "Gateway.Admin").Groups("g1").Scopes("access_as_user openid").Build());

        Assert.Equal("u1", payload.GetProperty("sub").GetString());
        Assert.Equal("u1", payload.GetProperty("oid").GetString());
        Assert.Equal("t1", payload.GetProperty("tid").GetString());
        Assert.Equal("2.0", payload.GetProperty("ver").GetString());
        Assert.Equal(JwtBuilder.DefaultAudience, payload.GetProperty("aud").GetString());
        Assert.Equal("Alice", payload.GetProperty("name").GetString());
        Assert.Equal("alice@contoso.test", payload.GetProperty("preferred_username").GetString());
        Assert.Equal("access_as_user openid", payload.GetProperty("scp").GetString());
        Assert.Equal(JsonValueKind.Array, payload.GetProperty("roles").ValueKind);
        Assert.Equal(["Gateway.User", "Gateway.Admin"], payload.GetProperty("roles").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("g1", payload.GetProperty("groups")[0].GetString());
        Assert.True(payload.TryGetProperty("azp", out _));
        Assert.False(payload.TryGetProperty("idtyp", out _));
    }

    [Fact]
    public void Entra_v2_workload_token_is_app_only()
    {
        var builder = JwtBuilder.ForIssuer("https://login.test/t1/v2.0", NewKey(), TokenShape.EntraV2);

        var payload = Payload(builder.Scopes("ignored").Workload("app-123").Oid("sp-456").Roles("Gateway.Workload").Build());

        Assert.Equal("app", payload.GetProperty("idtyp").GetString());
        Assert.Equal("app-123", payload.GetProperty("azp").GetString());
        Assert.Equal("sp-456", payload.GetProperty("oid").GetString());
        Assert.False(payload.TryGetProperty("scp", out _));
        Assert.Equal("Gateway.Workload", payload.GetProperty("roles")[0].GetString());
    }

    [Fact]
    public void Entra_v1_token_carries_appid_upn_and_unique_name()
    {
        var builder = JwtBuilder.ForIssuer("https://sts.test/t1/", NewKey(), TokenShape.EntraV1, tenantId: "t1");

        var user = Payload(builder.Upn("bob@contoso.test").Build());
        var app = Payload(JwtBuilder.ForIssuer("https://sts.test/t1/", NewKey(), TokenShape.EntraV1).Workload("app-9").Build());

        Assert.Equal("1.0", user.GetProperty("ver").GetString());
        Assert.Equal("bob@contoso.test", user.GetProperty("upn").GetString());
        Assert.Equal("bob@contoso.test", user.GetProperty("unique_name").GetString());
        Assert.True(user.TryGetProperty("appid", out _));
        Assert.Equal("app-9", app.GetProperty("appid").GetString());
        Assert.False(app.TryGetProperty("idtyp", out _));
    }

    [Fact]
    public void Generic_token_has_no_entra_claims()
    {
        var builder = JwtBuilder.ForIssuer("https://idp.test/oidc", NewKey());

        var user = Payload(builder.Subject("s1").Scopes("read write").Build());
        var app = Payload(JwtBuilder.ForIssuer("https://idp.test/oidc", NewKey()).Workload("client-1").Build());

        Assert.Equal("s1", user.GetProperty("sub").GetString());
        Assert.True(user.TryGetProperty("email", out _));
        Assert.Equal("read write", user.GetProperty("scope").GetString());
        foreach (var entraClaim in new[] { "oid", "tid", "ver", "scp", "appid", "idtyp" })
        {
            Assert.False(user.TryGetProperty(entraClaim, out _), entraClaim);
        }

        Assert.Equal("client-1", app.GetProperty("azp").GetString());
        Assert.Equal("client-1", app.GetProperty("client_id").GetString());
    }

    [Fact]
    public void Claim_overrides_and_WithoutClaim_removes_registered_claims()
    {
        var builder = JwtBuilder.ForIssuer("https://idp.test/oidc", NewKey());

        var payload = Payload(builder.Claim("agency", "dhs").Claim("sub", "override").WithoutClaim("exp").Build());

        Assert.Equal("dhs", payload.GetProperty("agency").GetString());
        Assert.Equal("override", payload.GetProperty("sub").GetString());
        Assert.False(payload.TryGetProperty("exp", out _));
        Assert.True(payload.TryGetProperty("iat", out _));
    }

    [Fact]
    public async Task ForIssuer_token_validates_with_the_given_key()
    {
        var key = NewKey();
        var token = JwtBuilder.ForIssuer("https://idp.test/oidc", key).Build();

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "https://idp.test/oidc",
            ValidAudience = JwtBuilder.DefaultAudience,
            IssuerSigningKey = key,
        });

        Assert.True(result.IsValid, result.Exception?.ToString());
        Assert.Equal("k1", new JsonWebToken(token).Kid);
    }

    private static RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = "k1" };
}
