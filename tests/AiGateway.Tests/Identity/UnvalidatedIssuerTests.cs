using System.Security.Cryptography;
using System.Text;
using AiGateway.Identity;
using AiGateway.Tests.Common;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Tests.Identity;

/// <summary>The issuer read that routes a token to its validator (the validator then checks everything).</summary>
public sealed class UnvalidatedIssuerTests
{
    private static readonly RsaSecurityKey s_key = new(RSA.Create(2048)) { KeyId = "k1" };

    [Theory]
    [InlineData("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0")]
    [InlineData("https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/")]
    [InlineData("http://127.0.0.1:5001/realms/agency")]
    public void Reads_the_same_issuer_as_a_full_parse(string issuer)
    {
        var token = JwtBuilder.ForIssuer(issuer, s_key).Groups(Enumerable.Range(0, 200).Select(i => $"group-{i:D4}").ToArray()).Build();

        Assert.Equal(new JsonWebToken(token).Issuer, GatewayAuthentication.ReadUnvalidatedIssuer(token));
        Assert.Equal(issuer, GatewayAuthentication.ReadUnvalidatedIssuer(token));
    }

    [Fact]
    public void Finds_iss_after_nested_claims()
    {
        var token = Unsigned("""{"sub":"a","nested":{"iss":"not-this","list":[1,{"iss":"nor-this"}]},"iss":"https://issuer.example"}""");

        Assert.Equal("https://issuer.example", GatewayAuthentication.ReadUnvalidatedIssuer(token));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-jwt")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData(".e30.")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.!!!.sig")]
    public void Malformed_tokens_have_no_issuer(string token) =>
        Assert.Null(GatewayAuthentication.ReadUnvalidatedIssuer(token));

    [Theory]
    [InlineData("""{"sub":"a"}""")]
    [InlineData("""{"iss":42}""")]
    [InlineData("""{"iss":null}""")]
    [InlineData("""["iss","x"]""")]
    [InlineData("""{"sub":"a", """)]
    public void Payloads_without_a_string_iss_have_no_issuer(string payload) =>
        Assert.Null(GatewayAuthentication.ReadUnvalidatedIssuer(Unsigned(payload)));

    private static string Unsigned(string payloadJson) =>
        Base64UrlEncoder.Encode("""{"alg":"RS256"}""") + "." + Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payloadJson)) + ".c2ln";
}
