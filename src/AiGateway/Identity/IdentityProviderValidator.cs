using AiGateway.Configuration;

namespace AiGateway.Identity;

/// <summary>Validates an agency's identity providers and derives the issuers they sign as.</summary>
internal static class IdentityProviderValidator
{
    public const string EntraType = "entra";
    public const string OidcType = "oidc";
    public const string DevType = "dev";

    public static void Validate(AgencyIdentityConfig identity, bool isProduction, Action<string, string> error)
    {
        if (identity.Providers.Count == 0)
        {
            error("$.identity.providers", "the agency trusts no token issuer, so nobody could call. Fix: add an 'entra', 'oidc' or (demo only) 'dev' provider.");
        }

        for (var i = 0; i < identity.Providers.Count; i++)
        {
            var provider = identity.Providers[i];
            var path = $"$.identity.providers[{i}]";
            switch (provider.Type)
            {
                case EntraType:
                    if (!Uri.TryCreate(provider.Instance, UriKind.Absolute, out var instance) || !IsHttpsOrLoopback(instance, provider.RequireHttpsMetadata))
                    {
                        error($"{path}.instance", "needs the Entra cloud instance. Fix: \"https://login.microsoftonline.com/\" (commercial) or \"https://login.microsoftonline.us/\" (US Government).");
                    }

                    if (!Guid.TryParse(provider.TenantId, out _))
                    {
                        error($"{path}.tenantId", "needs the directory (tenant) id as a GUID. Fix: copy it from the Entra admin center.");
                    }

                    if (string.IsNullOrWhiteSpace(provider.ClientId) && provider.Audiences.Count == 0)
                    {
                        error($"{path}.clientId", "needs the gateway's application (client) id or explicit audiences.");
                    }

                    break;
                case OidcType:
                    var hasAuthority = Uri.TryCreate(provider.Authority, UriKind.Absolute, out var authority);
                    var hasMetadata = Uri.TryCreate(provider.MetadataAddress, UriKind.Absolute, out var metadata);
                    if (!hasAuthority)
                    {
                        error($"{path}.authority", "needs the issuer URL (the token's 'iss'). Fix: e.g. \"https://agency.okta.com/oauth2/default\".");
                    }
                    else if (!IsHttpsOrLoopback(authority!, provider.RequireHttpsMetadata) || (hasMetadata && !IsHttpsOrLoopback(metadata!, provider.RequireHttpsMetadata)))
                    {
                        error($"{path}.requireHttpsMetadata", "keys must be fetched over https; requireHttpsMetadata=false is only accepted for loopback issuers.");
                    }

                    if (provider.Audiences.Count == 0)
                    {
                        error($"{path}.audiences", "needs at least one accepted audience. Fix: the gateway's API identifier, e.g. \"api://aigateway\".");
                    }

                    break;
                case DevType:
                    if (isProduction)
                    {
                        error($"{path}.type", "the local dev issuer is refused when the environment is Production. Fix: use an 'entra' or 'oidc' provider.");
                    }

                    break;
                default:
                    error($"{path}.type", $"'{provider.Type}' is not a provider type. Fix: 'entra', 'oidc' or 'dev'.");
                    break;
            }
        }
    }

    /// <summary>No two agencies may trust the same issuer: the issuer is what selects the agency.</summary>
    public static void CheckIssuersAreUnique(IEnumerable<AgencyPolicy> agencies, List<ConfigError> errors)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var agency in agencies)
        {
            for (var i = 0; i < agency.IdentityProviders.Count; i++)
            {
                foreach (var issuer in IssuersOf(agency.Name, agency.IdentityProviders[i]))
                {
                    if (!owners.TryAdd(issuer, agency.Name) && owners[issuer] != agency.Name)
                    {
                        errors.Add(new(agency.SourceFile, $"$.identity.providers[{i}]", $"issuer '{issuer}' is already trusted by agency '{owners[issuer]}'; a token must select exactly one agency."));
                    }
                }
            }
        }
    }

    /// <summary>The <c>iss</c> values a provider's tokens carry.</summary>
    public static IEnumerable<string> IssuersOf(string agency, IdentityProviderConfig provider)
    {
        switch (provider.Type)
        {
            case EntraType when provider.Instance is not null && provider.TenantId is not null:
                var instance = provider.Instance.TrimEnd('/');
                yield return $"{instance}/{provider.TenantId}/v2.0";
                yield return EntraV1Issuer(instance, provider.TenantId);
                break;
            case OidcType when provider.Authority is not null:
                yield return provider.Authority;
                break;
            case DevType:
                yield return DevIssuer.IssuerFor(agency);
                break;
        }
    }

    /// <summary>
    /// Entra v1 tokens carry https://sts.windows.net/{tenant}/ in both the commercial and the US Government
    /// cloud (v2 tokens carry the instance host). Other instances (loopback test issuers) sign v1 as {instance}/{tenant}/.
    /// </summary>
    public static string EntraV1Issuer(string instance, string tenantId) => new Uri(instance).Host switch
    {
        "login.microsoftonline.com" or "login.microsoftonline.us" => $"https://sts.windows.net/{tenantId}/",
        _ => $"{instance}/{tenantId}/",
    };

    private static bool IsHttpsOrLoopback(Uri uri, bool requireHttps) =>
        uri.Scheme == Uri.UriSchemeHttps || (!requireHttps && uri.Scheme == Uri.UriSchemeHttp && GatewayConfigLoader.IsLoopback(uri));
}
