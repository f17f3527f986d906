using System.Security.Cryptography;
using AiGateway.Identity;
using BenchmarkDotNet.Attributes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Benchmarks.Identity;

/// <summary>
/// What one request's token costs: full validation (RS256 signature, issuer, audience, lifetime) with the
/// gateway's TokenValidationParameters shape (GatewayAuthentication.ConfigureCommon) against parsing only and
/// against the validated-token cache lookup. Compare with ~44 µs CPU per request of a plain YARP passthrough.
/// </summary>
[MemoryDiagnoser]
public class TokenValidationBenchmarks
{
    private const string Issuer = "https://login.microsoftonline.us/6c3e1c7a-1f7b-4c9e-9a55-0f4d2b8e7c11/v2.0";
    private const string Audience = "api://aigateway";

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private RSA _rsa = null!;
    private TokenValidationParameters _parameters = null!;
    private string _token = null!;
    private ValidatedTokenCache _cache = null!;
    private readonly object _configuration = new();

    [GlobalSetup]
    public void Setup()
    {
        _rsa = RSA.Create(2048);
        var signingKey = new RsaSecurityKey(_rsa) { KeyId = "key-1" };
        var publicKey = new RsaSecurityKey(_rsa.ExportParameters(includePrivateParameters: false)) { KeyId = "key-1" };
        var now = DateTime.UtcNow;
        _token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = "3b1f0f9e-8f5a-4f7e-9a6b-2c1d0e9f8a7b",
                ["oid"] = "3b1f0f9e-8f5a-4f7e-9a6b-2c1d0e9f8a7b",
                ["tid"] = "6c3e1c7a-1f7b-4c9e-9a55-0f4d2b8e7c11",
                ["azp"] = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
                ["scp"] = "access_as_user",
                ["roles"] = new[] { "analyst", "engineer" },
                ["groups"] = new[] { "8f0c2b64-5d1e-4c8e-9a51-0f6b8c9a7d21", "0b7f5a34-2f7c-4f0e-9a1c-3d8e6f5b4a21" },
                ["name"] = "Ann Analyst",
                ["preferred_username"] = "ann@agency.gov",
                ["ver"] = "2.0",
            },
            SigningCredentials = new SigningCredentials(signingKey, SecurityAlgorithms.RsaSha256),
        });

        // The shape GatewayAuthentication.ConfigureCommon gives every scheme.
        _parameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = Issuer,
            ValidateAudience = true,
            ValidAudiences = [Audience],
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = GatewayAuthentication.ClockSkew,
            ValidAlgorithms = GatewayAuthentication.AllowedAlgorithms,
            NameClaimType = "name",
            RoleClaimType = "roles",
            IssuerSigningKeys = [publicKey],
        };

        if (!_handler.ValidateTokenAsync(_token, _parameters).GetAwaiter().GetResult().IsValid)
        {
            throw new InvalidOperationException("The benchmark token does not validate.");
        }

        _cache = new ValidatedTokenCache(TimeProvider.System, capacity: 10_000);
        var result = _handler.ValidateTokenAsync(_token, _parameters).GetAwaiter().GetResult();
        _cache.Add(_token, "scheme", _configuration, result.ClaimsIdentity, new DateTimeOffset(((JsonWebToken)result.SecurityToken).ValidTo, TimeSpan.Zero));
    }

    [GlobalCleanup]
    public void Cleanup() => _rsa.Dispose();

    [Benchmark(Baseline = true, Description = "Validate (RS256 + iss/aud/lifetime)")]
    public async Task<bool> Validate() => (await _handler.ValidateTokenAsync(_token, _parameters)).IsValid;

    [Benchmark(Description = "Parse only (no signature)")]
    public string Parse() => new JsonWebToken(_token).Issuer;

    [Benchmark(Description = "RSA verify only (PKCS#1 SHA-256)")]
    public bool VerifyOnly()
    {
        var dot = _token.LastIndexOf('.');
        var signature = Base64UrlEncoder.DecodeBytes(_token[(dot + 1)..]);
        return _rsa.VerifyData(System.Text.Encoding.ASCII.GetBytes(_token, 0, dot), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    [Benchmark(Description = "Validated-token cache hit (SHA-256 key + identity copy)")]
    public bool CacheHit() => _cache.TryGet(_token, "scheme", _configuration, out _);
}
