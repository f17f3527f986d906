using System.Buffers;
using System.Buffers.Text;
using System.Security.Claims;
using System.Text.Json;
using AiGateway.Configuration;
using AiGateway.Model;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Identity;

/// <summary>
/// Registers ASP.NET Core authentication: one JwtBearer scheme per trusted identity provider (Entra through
/// Microsoft.Identity.Web, other issuers through discovery + JWKS, the dev issuer with its local key) and a
/// policy scheme that forwards each token to the scheme of its issuer. An unknown issuer is refused.
/// </summary>
internal static class GatewayAuthentication
{
    public const string SchemeName = "gateway";
    private const string UnknownIssuerScheme = "unknown-issuer";

    /// <summary>Asymmetric algorithms only: HS256 and <c>none</c> are never accepted.</summary>
    internal static readonly string[] AllowedAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    internal static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    public static IServiceCollection AddGatewayAuthentication(this IServiceCollection services, GatewaySnapshot initial, IdentityOptions options)
    {
        var issuers = new IssuerDirectory(initial);
        services.AddSingleton(issuers);
        services.AddSingleton(options);
        var tokenCache = new ValidatedTokenCache(TimeProvider.System);
        services.AddSingleton(tokenCache);

        // No default scheme: only the caller stage authenticates, and only where a caller is needed. With a default, the
        // authentication middleware WebApplication adds on its own ran the whole token path a second time per request
        // (and on SCIM and health endpoints).
        var builder = services.AddAuthentication()
            .AddPolicyScheme(SchemeName, "Bearer token of any trusted issuer", o => o.ForwardDefaultSelector = context => SelectScheme(context, issuers))
            .AddScheme<AuthenticationSchemeOptions, UnknownIssuerHandler>(UnknownIssuerScheme, null);

        DevIssuer? dev = null;
        foreach (var registration in issuers.Schemes)
        {
            var provider = registration.Provider;
            switch (provider.Type)
            {
                case IdentityProviderValidator.EntraType:
                    builder.AddMicrosoftIdentityWebApi(
                        jwt =>
                        {
                            ConfigureCommon(jwt, provider, options, tokenCache);
                            // Pin the tenant's exact v2 and v1 issuers (the strings IssuerDirectory routes by). MIW's
                            // AadIssuerValidator accepts a ValidIssuers match before it fetches issuer metadata itself,
                            // with a document retriever that ignores RequireHttpsMetadata; without this, tokens from a
                            // non-https (loopback) instance always failed with IDX40001.
                            jwt.TokenValidationParameters.ValidIssuers = [.. IdentityProviderValidator.IssuersOf(registration.Agency, provider)];
                        },
                        identity =>
                        {
                            identity.Instance = provider.Instance!;
                            identity.TenantId = provider.TenantId;
                            identity.ClientId = provider.ClientId;
                            // MIW otherwise fails (401) every token without scp/roles, e.g. an app-only token whose
                            // role comes from a mapped group. The gateway authorizes itself, default deny (403).
                            identity.AllowWebApiToBeAuthorizedByACL = true;
                        },
                        registration.Scheme);
                    break;
                case IdentityProviderValidator.OidcType:
                    builder.AddJwtBearer(registration.Scheme, jwt =>
                    {
                        ConfigureCommon(jwt, provider, options, tokenCache);
                        jwt.TokenValidationParameters.ValidIssuer = provider.Authority;
                        var metadata = provider.MetadataAddress ?? provider.Authority!.TrimEnd('/') + "/.well-known/openid-configuration";
                        jwt.ConfigurationManager = CreateConfigurationManager(metadata, provider.RequireHttpsMetadata, options);
                    });
                    break;
                case IdentityProviderValidator.DevType:
                    dev ??= DevIssuer.LoadOrCreate(options.DataDirectory);
                    var devKey = dev.SigningKey;
                    builder.AddJwtBearer(registration.Scheme, jwt =>
                    {
                        ConfigureCommon(jwt, provider, options, tokenCache);
                        jwt.Configuration = new OpenIdConnectConfiguration { Issuer = registration.Issuer };
                        jwt.TokenValidationParameters.ValidIssuer = registration.Issuer;
                        jwt.TokenValidationParameters.ValidAudience = DevIssuer.Audience;
                        jwt.TokenValidationParameters.IssuerSigningKey = devKey;
                    });
                    break;
            }
        }

        return services;
    }

    private static void ConfigureCommon(JwtBearerOptions jwt, IdentityProviderConfig provider, IdentityOptions options, ValidatedTokenCache tokenCache)
    {
        jwt.MapInboundClaims = false;
        jwt.RequireHttpsMetadata = provider.RequireHttpsMetadata;
        jwt.RefreshOnIssuerKeyNotFound = true;
        jwt.IncludeErrorDetails = false;
        jwt.SaveToken = false;
        var parameters = jwt.TokenValidationParameters;
        parameters.ValidateIssuer = true;
        parameters.ValidateAudience = true;
        parameters.ValidateLifetime = true;
        parameters.ValidateIssuerSigningKey = true;
        parameters.RequireSignedTokens = true;
        parameters.RequireExpirationTime = true;
        parameters.ClockSkew = ClockSkew;
        parameters.ValidAlgorithms = AllowedAlgorithms;
        parameters.NameClaimType = "name";
        parameters.RoleClaimType = provider.Claims.Roles ?? "roles";
        if (provider.Audiences.Count > 0)
        {
            parameters.ValidAudiences = provider.Audiences;
        }

        jwt.Events ??= new JwtBearerEvents();
        jwt.Events.OnAuthenticationFailed = context => RetryAfterKeyRefreshAsync(context, options);
        // RSA verification dominates a request's authentication cost; see ValidatedTokenCache for the bounds.
        jwt.Events.OnMessageReceived = tokenCache.OnMessageReceivedAsync;
        jwt.Events.OnTokenValidated = tokenCache.OnTokenValidatedAsync;
    }

    /// <summary>
    /// A signing key rotated at the issuer: the handler has asked its configuration manager to refresh on the
    /// unknown kid; validate once more against the refreshed keys so the first token of the new key is accepted.
    /// A key the issuer removed is not published any more and stays refused (no last-known-good fallback).
    /// </summary>
    private static async Task RetryAfterKeyRefreshAsync(AuthenticationFailedContext context, IdentityOptions options)
    {
        if (context.Exception is not SecurityTokenSignatureKeyNotFoundException || context.Options.ConfigurationManager is null)
        {
            return;
        }

        var token = GetBearerToken(context.HttpContext.Request);
        if (token is null)
        {
            return;
        }

        var configuration = await context.Options.ConfigurationManager.GetConfigurationAsync(context.HttpContext.RequestAborted);
        var parameters = context.Options.TokenValidationParameters.Clone();
        parameters.IssuerSigningKeys = configuration.SigningKeys;
        parameters.ConfigurationManager = null;
        var result = await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, parameters);
        if (result.IsValid)
        {
            context.Principal = new ClaimsPrincipal(result.ClaimsIdentity);
            context.Success();
        }
    }

    private static ConfigurationManager<OpenIdConnectConfiguration> CreateConfigurationManager(string metadataAddress, bool requireHttps, IdentityOptions options) =>
        new(metadataAddress, new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever { RequireHttps = requireHttps })
        {
            AutomaticRefreshInterval = options.KeyRefreshInterval,
            RefreshInterval = options.MinimumKeyRefreshInterval,
            // A removed key must stop working as soon as the issuer stops publishing it.
            UseLastKnownGoodConfiguration = false,
        };

    private static string SelectScheme(HttpContext context, IssuerDirectory issuers)
    {
        var token = GetBearerToken(context.Request);
        if (token is null)
        {
            return UnknownIssuerScheme;
        }

        // Reading the (not yet trusted) issuer only chooses which validator runs; the validator checks it.
        return ReadUnvalidatedIssuer(token) is { } issuer && issuers.TryGet(issuer, out var registration) ? registration.Scheme : UnknownIssuerScheme;
    }

    /// <summary>
    /// The <c>iss</c> of a compact JWS, read straight from its base64url payload: no signature check and no claim set
    /// (a full <c>JsonWebToken</c> parse of every request's token only to route it cost ~9 µs). Null when the token
    /// is not a three-part JWT with a string <c>iss</c>; the chosen validator then parses and checks everything.
    /// </summary>
    internal static string? ReadUnvalidatedIssuer(string token)
    {
        var first = token.IndexOf('.', StringComparison.Ordinal);
        var second = first < 0 ? -1 : token.IndexOf('.', first + 1);
        if (first <= 0 || second < 0 || token.IndexOf('.', second + 1) >= 0)
        {
            return null;
        }

        var payload = token.AsSpan(first + 1, second - first - 1);
        var max = Base64Url.GetMaxDecodedLength(payload.Length);
        byte[]? rented = null;
        var buffer = max <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            if (Base64Url.DecodeFromChars(payload, buffer, out _, out var written) != OperationStatus.Done)
            {
                return null;
            }

            var reader = new Utf8JsonReader(buffer[..written]);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isIssuer = reader.ValueTextEquals("iss"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isIssuer)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }

            return null;
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The caller's token: <c>Authorization: Bearer</c>, or — because the Anthropic and Azure OpenAI SDKs send their
    /// "API key" there — a JWT in <c>x-api-key</c> or <c>api-key</c>. Never forwarded upstream either way.
    /// </summary>
    internal static string? GetBearerToken(HttpRequest request)
    {
        var feature = request.HttpContext.Features.Get<GatewayRequestFeature>();
        if (feature is null)
        {
            return ReadBearerToken(request);
        }

        if (!feature.BearerToken.Read)
        {
            feature.BearerToken = (true, ReadBearerToken(request));
        }

        return feature.BearerToken.Token;
    }

    private static string? ReadBearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Prefix = "Bearer ";
        if (header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && header.Length > Prefix.Length)
        {
            return header[Prefix.Length..].Trim();
        }

        if (header.Length == 0)
        {
            foreach (var name in s_apiKeyHeaders)
            {
                var value = request.Headers[name].ToString().Trim();
                if (value.Length > 0 && value.AsSpan().Count('.') == 2)
                {
                    return value;
                }
            }
        }

        return null;
    }

    private static readonly string[] s_apiKeyHeaders = ["x-api-key", "api-key"];
}

/// <summary>Process-level identity settings (not per agency).</summary>
internal sealed record IdentityOptions
{
    public required string DataDirectory { get; init; }

    /// <summary>How often signing keys are re-fetched even when nothing asks for it.</summary>
    public TimeSpan KeyRefreshInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The least time between two key fetches triggered by unknown key ids (bounds refetch floods).</summary>
    public TimeSpan MinimumKeyRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>Fails every token whose issuer no agency trusts, and requests without a token.</summary>
internal sealed class UnknownIssuerHandler : AuthenticationHandler<AuthenticationSchemeOptions>
{
    public UnknownIssuerHandler(Microsoft.Extensions.Options.IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, System.Text.Encodings.Web.UrlEncoder encoder)
        : base(options, logger, encoder)
    {
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        Task.FromResult(GatewayAuthentication.GetBearerToken(Request) is null
            ? AuthenticateResult.NoResult()
            : AuthenticateResult.Fail("The token's issuer is not trusted by any agency."));
}
