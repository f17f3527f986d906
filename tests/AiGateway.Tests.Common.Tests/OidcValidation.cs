using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Tests.Common.Tests;

/// <summary>A relying party validating like JwtBearer does: configuration discovered over HTTP, keys from the JWKS.</summary>
internal sealed class OidcValidation
{
    private readonly TestOidcIssuer _issuer;

    /// <param name="issuer">The issuer to trust.</param>
    /// <param name="useLastKnownGood">
    /// The library default (true) lets JsonWebTokenHandler fall back to earlier "last known good" configurations for
    /// <c>LastKnownGoodLifetime</c> (1 hour), so a key removed from the JWKS keeps validating. Off unless a test says so.
    /// </param>
    public OidcValidation(TestOidcIssuer issuer, bool useLastKnownGood = false)
    {
        _issuer = issuer;
        Configuration = new ConfigurationManager<OpenIdConnectConfiguration>(
            issuer.MetadataAddress.AbsoluteUri,
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever { RequireHttps = false })
        {
            // The shortest refresh the library allows, so a refresh request is honoured within a second.
            RefreshInterval = ConfigurationManager<OpenIdConnectConfiguration>.MinimumRefreshInterval,
            UseLastKnownGoodConfiguration = useLastKnownGood,
        };
    }

    public ConfigurationManager<OpenIdConnectConfiguration> Configuration { get; }

    public Task<TokenValidationResult> ValidateAsync(string token) =>
        new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = _issuer.Issuer,
            ValidAudience = JwtBuilder.DefaultAudience,
            ConfigurationManager = Configuration,
        });

    /// <summary>Requests refreshes until the discovered configuration satisfies <paramref name="condition"/> (bounded).</summary>
    public async Task<OpenIdConnectConfiguration> RefreshUntilAsync(Func<OpenIdConnectConfiguration, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            Configuration.RequestRefresh();
            var configuration = await Configuration.GetConfigurationAsync(CancellationToken.None);
            if (condition(configuration))
            {
                return configuration;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The OpenID Connect configuration did not reach the expected state.");
            }

            await Task.Delay(50);
        }
    }

    public static bool HasKey(OpenIdConnectConfiguration configuration, string kid)
    {
        foreach (var key in configuration.SigningKeys)
        {
            if (key.KeyId == kid)
            {
                return true;
            }
        }

        return false;
    }
}
