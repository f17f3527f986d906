using System.Collections.Frozen;
using AiGateway.Configuration;

namespace AiGateway.Identity;

/// <summary>One trusted issuer: which agency it selects and which authentication scheme validates it.</summary>
internal sealed record IssuerRegistration(string Issuer, string Agency, int ProviderIndex, IdentityProviderConfig Provider, string Scheme);

/// <summary>
/// Issuer → agency and scheme, built from the agency files at start-up. Authentication schemes are registered
/// once per process, so a change to an agency's identity providers takes effect on restart (other agency
/// settings reload live).
/// </summary>
internal sealed class IssuerDirectory
{
    private readonly FrozenDictionary<string, IssuerRegistration> _byIssuer;

    public IssuerDirectory(GatewaySnapshot snapshot)
    {
        var map = new Dictionary<string, IssuerRegistration>(StringComparer.Ordinal);
        var schemes = new List<IssuerRegistration>();
        foreach (var agency in snapshot.Agencies.Values)
        {
            for (var i = 0; i < agency.IdentityProviders.Count; i++)
            {
                var provider = agency.IdentityProviders[i];
                var scheme = $"idp:{agency.Name}:{i}";
                IssuerRegistration? first = null;
                foreach (var issuer in IdentityProviderValidator.IssuersOf(agency.Name, provider))
                {
                    var registration = new IssuerRegistration(issuer, agency.Name, i, provider, scheme);
                    first ??= registration;
                    map[issuer] = registration;
                }

                if (first is not null)
                {
                    schemes.Add(first);
                }
            }
        }

        _byIssuer = map.ToFrozenDictionary(StringComparer.Ordinal);
        Schemes = schemes;
    }

    /// <summary>One registration per scheme (the provider's first issuer).</summary>
    public IReadOnlyList<IssuerRegistration> Schemes { get; }

    public bool TryGet(string issuer, out IssuerRegistration registration) =>
        _byIssuer.TryGetValue(issuer, out registration!);

    /// <summary>A stable fingerprint of the identity settings, to tell when a reload changed them.</summary>
    public static string Fingerprint(GatewaySnapshot snapshot)
    {
        var text = new System.Text.StringBuilder();
        foreach (var agency in snapshot.Agencies.Values.OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            text.Append(agency.Name).Append('|').Append(System.Text.Json.JsonSerializer.Serialize(agency.IdentityProviders)).Append('\n');
        }

        return text.ToString();
    }
}
