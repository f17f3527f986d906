using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Tests.Common;

/// <summary>
/// A real OpenID Connect issuer on a loopback Kestrel port: it serves the discovery document and the JWKS over
/// plain HTTP (relying parties must set <c>RequireHttpsMetadata = false</c>) and issues tokens via <see cref="Token"/>.
/// </summary>
/// <remarks>
/// Paths imitate the real providers. Entra v2: <c>/{tenant}/v2.0/.well-known/openid-configuration</c> and
/// <c>/{tenant}/discovery/v2.0/keys</c>. Entra v1: <c>/{tenant}/.well-known/openid-configuration</c> and
/// <c>/{tenant}/discovery/keys</c>. Generic: <c>/oidc/.well-known/openid-configuration</c> and <c>/oidc/jwks</c>.
/// </remarks>
public sealed class TestOidcIssuer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SigningKeyRing _keys;
    private readonly TestOidcIssuerOptions _options;
    private readonly string _discoveryPath;
    private readonly string _jwksPath;
    private int _discoveryRequestCount;
    private int _jwksRequestCount;
    private volatile bool _isAvailable = true;

    private TestOidcIssuer(WebApplication app, SigningKeyRing keys, TestOidcIssuerOptions options, Uri baseAddress)
    {
        _app = app;
        _keys = keys;
        _options = options;
        var root = baseAddress.GetLeftPart(UriPartial.Authority);
        (Issuer, _discoveryPath, _jwksPath) = options.Shape switch
        {
            TokenShape.EntraV2 => ($"{root}/{options.TenantId}/v2.0", $"/{options.TenantId}/v2.0/.well-known/openid-configuration", $"/{options.TenantId}/discovery/v2.0/keys"),
            TokenShape.EntraV1 => ($"{root}/{options.TenantId}/", $"/{options.TenantId}/.well-known/openid-configuration", $"/{options.TenantId}/discovery/keys"),
            TokenShape.GenericOidc => ($"{root}/oidc", "/oidc/.well-known/openid-configuration", "/oidc/jwks"),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Shape, "Unknown token shape."),
        };
        MetadataAddress = new Uri(root + _discoveryPath);
        JwksUri = new Uri(root + _jwksPath);
        BaseAddress = new Uri(root);
    }

    /// <summary>The <c>iss</c> value of tokens and of the discovery document (Entra v1 ends with <c>/</c>, as sts.windows.net does).</summary>
    public string Issuer { get; }

    /// <summary>The discovery document URL (<c>{Issuer}/.well-known/openid-configuration</c>), for <c>JwtBearerOptions.MetadataAddress</c>.</summary>
    public Uri MetadataAddress { get; }

    /// <summary>The JWKS URL advertised as <c>jwks_uri</c>.</summary>
    public Uri JwksUri { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The tenant id in the issuer and in <c>tid</c> (Entra shapes).</summary>
    public string TenantId => _options.TenantId;

    /// <summary>Which provider this issuer imitates.</summary>
    public TokenShape Shape => _options.Shape;

    /// <summary>The default audience of tokens from <see cref="Token"/>.</summary>
    public string Audience => _options.Audience;

    /// <summary>The client app id put in <c>azp</c>/<c>appid</c> of user tokens.</summary>
    public string ClientAppId => _options.ClientAppId;

    /// <summary>The <c>kid</c> of the key that signs new tokens.</summary>
    public string CurrentKeyId => _keys.CurrentKeyId;

    /// <summary>The kids currently in the JWKS, oldest first.</summary>
    public IReadOnlyList<string> PublishedKeyIds => _keys.PublishedKeyIds;

    /// <summary>The public half of the current signing key (no private parameters).</summary>
    public RsaSecurityKey CurrentPublicKey => _keys.GetPublicKey(_keys.CurrentKeyId);

    /// <summary>The current public key as SubjectPublicKeyInfo PEM text in ASCII bytes.</summary>
    public byte[] CurrentPublicKeyPem => _keys.GetPublicKeyPem(_keys.CurrentKeyId);

    /// <summary>How many times the discovery document was requested.</summary>
    public int DiscoveryRequestCount => Volatile.Read(ref _discoveryRequestCount);

    /// <summary>How many times the JWKS was requested.</summary>
    public int JwksRequestCount => Volatile.Read(ref _jwksRequestCount);

    /// <summary>
    /// When false, both endpoints answer 503 (an identity-provider outage); requests are still counted. Default true.
    /// </summary>
    public bool IsAvailable
    {
        get => _isAvailable;
        set => _isAvailable = value;
    }

    /// <summary>Starts an issuer on a free loopback port.</summary>
    public static async Task<TestOidcIssuer> StartAsync(TestOidcIssuerOptions? options = null)
    {
        options ??= new TestOidcIssuerOptions();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();

        TestOidcIssuer? issuer = null;
        app.Run(context => issuer!.HandleAsync(context));

        var keys = SigningKeyRing.CreateWithNewKey();
        try
        {
            await app.StartAsync().ConfigureAwait(false);
            var address = app.Urls.Single(); // Kestrel reports the port it bound for port 0
            issuer = new TestOidcIssuer(app, keys, options, new Uri(address));
            return issuer;
        }
        catch
        {
            keys.Dispose();
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A token builder for this issuer: its <c>iss</c>, shape, tenant, audience, clock and current key.</summary>
    public JwtBuilder Token() =>
        new(Issuer, _keys, _options.Shape, _options.TenantId, _options.ClientAppId, _options.Audience, _options.TimeProvider);

    /// <summary>Creates a new RSA 2048 key, publishes it next to the old ones and signs with it from now on.</summary>
    /// <returns>The new key's <c>kid</c>.</returns>
    public string RotateKey() => _keys.Rotate();

    /// <summary>Stops publishing a key. Tokens signed with it fail at a relying party once it refreshes its configuration.</summary>
    /// <remarks>Removing the current key leaves it signing new tokens (which then fail validation), like a botched rotation.</remarks>
    public void RemoveKey(string kid) => _keys.Unpublish(kid);

    /// <summary>The public half of any key this issuer created, published or removed.</summary>
    public RsaSecurityKey GetPublicKey(string kid) => _keys.GetPublicKey(kid);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _keys.Dispose();
    }

    private Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }

        var path = request.Path.Value;
        bool isDiscovery = string.Equals(path, _discoveryPath, StringComparison.Ordinal);
        bool isJwks = string.Equals(path, _jwksPath, StringComparison.Ordinal);
        if (isDiscovery)
        {
            Interlocked.Increment(ref _discoveryRequestCount);
        }
        else if (isJwks)
        {
            Interlocked.Increment(ref _jwksRequestCount);
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!_isAvailable)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        }

        var body = isDiscovery ? WriteDiscoveryDocument() : WriteJwks();
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentLength = body.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(body).AsTask();
    }

    private byte[] WriteDiscoveryDocument()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            var root = BaseAddress.GetLeftPart(UriPartial.Authority);
            var authorizeBase = _options.Shape == TokenShape.GenericOidc ? root + "/oidc" : $"{root}/{_options.TenantId}/oauth2" + (_options.Shape == TokenShape.EntraV2 ? "/v2.0" : string.Empty);
            json.WriteStartObject();
            json.WriteString("issuer", Issuer);
            json.WriteString("jwks_uri", JwksUri.AbsoluteUri);
            json.WriteString("authorization_endpoint", authorizeBase + "/authorize");
            json.WriteString("token_endpoint", authorizeBase + "/token");
            WriteArray(json, "response_types_supported", "code", "id_token", "code id_token", "id_token token");
            WriteArray(json, "subject_types_supported", "pairwise");
            WriteArray(json, "id_token_signing_alg_values_supported", "RS256");
            WriteArray(json, "token_endpoint_auth_methods_supported", "client_secret_post", "private_key_jwt", "client_secret_basic");
            WriteArray(json, "scopes_supported", "openid", "profile", "email", "offline_access");
            if (_options.Shape == TokenShape.GenericOidc)
            {
                WriteArray(json, "claims_supported", "sub", "iss", "aud", "exp", "iat", "nbf", "name", "preferred_username", "email", "azp", "client_id", "scope", "roles", "groups");
            }
            else
            {
                json.WriteString("tenant_region_scope", "NA");
                WriteArray(json, "claims_supported", "sub", "iss", "aud", "exp", "iat", "nbf", "name", "preferred_username", "oid", "tid", "ver", "azp", "appid", "upn", "unique_name", "roles", "groups", "scp", "idtyp");
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private byte[] WriteJwks()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var (kid, parameters) in _keys.GetPublishedKeys())
            {
                json.WriteStartObject();
                json.WriteString("kty", "RSA");
                json.WriteString("use", "sig");
                json.WriteString("kid", kid);
                json.WriteString("alg", "RS256");
                json.WriteString("n", Base64UrlEncoder.Encode(parameters.Modulus));
                json.WriteString("e", Base64UrlEncoder.Encode(parameters.Exponent));
                if (_options.Shape == TokenShape.EntraV2)
                {
                    json.WriteString("issuer", Issuer); // Entra's v2 JWKS names the issuer per key; Microsoft.Identity.Web checks it
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteArray(Utf8JsonWriter json, string name, params string[] values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
