using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.LoadTests;

/// <summary>
/// The load tests' own OIDC issuer (discovery + JWKS) and OTLP sink on one loopback Kestrel: the gateway
/// validates real RS256 tokens through its ordinary <c>oidc</c> provider, so 10k distinct callers cost
/// what they cost in production (signature check on first sight, then the validated-token cache).
/// </summary>
internal sealed class Issuer : IAsyncDisposable
{
    public const string Audience = "api://aigateway-loadtest";
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly string _keyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(9));
    private WebApplication? _app;
    private long _otlpRequests;

    public string BaseUrl { get; private set; } = "";

    public string Authority => BaseUrl + "/perf";

    public long OtlpRequests => Interlocked.Read(ref _otlpRequests);

    public async Task StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        BaseUrl = $"http://127.0.0.1:{port}";
        var p = _rsa.ExportParameters(false);
        var jwks = $$"""{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{_keyId}}","n":"{{Base64UrlEncoder.Encode(p.Modulus)}}","e":"{{Base64UrlEncoder.Encode(p.Exponent)}}"}]}""";
        var discovery = $$"""{"issuer":"{{Authority}}","jwks_uri":"{{Authority}}/jwks","id_token_signing_alg_values_supported":["RS256"]}""";
        app.MapGet("/perf/.well-known/openid-configuration", () => Results.Text(discovery, "application/json"));
        app.MapGet("/perf/jwks", () => Results.Text(jwks, "application/json"));
        // OTLP/HTTP sink: an empty body is a valid empty Export*ServiceResponse.
        app.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            Interlocked.Increment(ref _otlpRequests);
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Mints <paramref name="count"/> tokens for distinct subjects holding role <c>user</c>.</summary>
    public List<string> Mint(int count, string subjectPrefix = "caller-")
    {
        var handler = new JsonWebTokenHandler();
        var credentials = new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = _keyId }, SecurityAlgorithms.RsaSha256);
        var now = DateTime.UtcNow;
        var tokens = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            tokens.Add(handler.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = Authority,
                Audience = Audience,
                IssuedAt = now,
                NotBefore = now.AddMinutes(-1),
                Expires = now.AddHours(6),
                Claims = new Dictionary<string, object>
                {
                    ["sub"] = subjectPrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["roles"] = new[] { "user" },
                    ["preferred_username"] = $"{subjectPrefix}{i}@perf.example.gov",
                },
                SigningCredentials = credentials,
            }));
        }

        return tokens;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _rsa.Dispose();
    }
}
