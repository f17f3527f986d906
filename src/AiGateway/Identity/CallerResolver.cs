using System.Security.Claims;
using AiGateway.Configuration;
using AiGateway.Model;

namespace AiGateway.Identity;

/// <summary>
/// Builds the immutable <see cref="Caller"/> from a validated token's claims. The token's issuer selects
/// the agency; roles come from the role claim and from group ids the agency maps to roles.
/// </summary>
internal static class CallerResolver
{
    /// <summary>Returns null when no agency of <paramref name="config"/> trusts the token's issuer.</summary>
    public static Caller? Resolve(ClaimsPrincipal claimsPrincipal, GatewaySnapshot config, IssuerDirectory issuers)
    {
        // The claims once, in a list scanned per lookup: ClaimsPrincipal.FindFirst/FindAll allocate a predicate (and
        // FindAll an iterator) per call, and a caller is resolved with ~15 lookups on every request.
        var tokenClaims = new List<Claim>(32);
        foreach (var identity in claimsPrincipal.Identities)
        {
            tokenClaims.AddRange(identity.Claims);
        }

        var issuer = First(tokenClaims, "iss");
        if (issuer is null || !issuers.TryGet(issuer, out var registration) || !config.Agencies.TryGetValue(registration.Agency, out var agency))
        {
            return null;
        }

        var claims = registration.Provider.Claims;
        var subject = First(tokenClaims, claims.Subject) ?? First(tokenClaims, "oid") ?? First(tokenClaims, "sub");
        if (string.IsNullOrEmpty(subject))
        {
            return null;
        }

        var roles = new List<string>();
        AddAll(tokenClaims, claims.Roles ?? "roles", roles);
        var groups = new List<string>();
        AddAll(tokenClaims, claims.Groups ?? "groups", groups);
        foreach (var group in groups)
        {
            if (agency.GroupRoles.TryGetValue(group, out var mapped))
            {
                foreach (var role in mapped)
                {
                    if (!roles.Contains(role, StringComparer.Ordinal))
                    {
                        roles.Add(role);
                    }
                }
            }
        }

        var userName = First(tokenClaims, "upn") ?? First(tokenClaims, "preferred_username") ?? First(tokenClaims, "unique_name") ?? First(tokenClaims, "email");
        var clientApp = First(tokenClaims, "azp") ?? First(tokenClaims, "appid") ?? First(tokenClaims, "client_id");
        return new Caller
        {
            Agency = agency.Name,
            SubjectId = subject,
            Kind = KindOf(tokenClaims, userName, clientApp),
            Roles = roles,
            Groups = groups,
            Issuer = issuer,
            DisplayName = First(tokenClaims, claims.Name) ?? First(tokenClaims, "name"),
            UserName = userName,
            ClientAppId = clientApp,
            Clearance = ClearanceOf(tokenClaims, agency.Inspection.ClearanceClaim),
        };
    }

    /// <summary>An unreadable clearance value counts as the lowest level: deny when unsure.</summary>
    private static Markings.MarkingLevel? ClearanceOf(List<Claim> tokenClaims, string? claim)
    {
        var value = First(tokenClaims, claim);
        if (value is null)
        {
            return null;
        }

        return GatewayConfigLoader.TryParseLevel(value, out var level) ? level : Markings.MarkingLevel.Unclassified;
    }

    /// <summary>
    /// Entra marks app-only tokens with <c>idtyp=app</c>; otherwise a token whose <c>sub</c> is its client id, or
    /// a token with a client id but no delegated scope (<c>scp</c>/<c>scope</c>) and no user name, is a
    /// client-credentials (workload) token.
    /// </summary>
    private static CallerKind KindOf(List<Claim> tokenClaims, string? userName, string? clientApp)
    {
        var idtyp = First(tokenClaims, "idtyp");
        if (string.Equals(idtyp, "app", StringComparison.OrdinalIgnoreCase))
        {
            return CallerKind.Workload;
        }

        if (string.Equals(idtyp, "user", StringComparison.OrdinalIgnoreCase))
        {
            return CallerKind.Person;
        }

        // RFC 9068: without a resource owner, sub identifies the client itself.
        if (clientApp is not null && string.Equals(First(tokenClaims, "sub"), clientApp, StringComparison.Ordinal))
        {
            return CallerKind.Workload;
        }

        // Entra puts delegated scopes in scp, RFC 9068 issuers in scope.
        var hasScope = tokenClaims.Exists(static c => c.Type is "scp" or "scope" or "http://schemas.microsoft.com/identity/claims/scope");
        return clientApp is not null && !hasScope && userName is null ? CallerKind.Workload : CallerKind.Person;
    }

    /// <summary>The first claim of <paramref name="type"/> (compared as ClaimsIdentity does: ordinal, ignoring case).</summary>
    private static string? First(List<Claim> tokenClaims, string? type)
    {
        if (type is null)
        {
            return null;
        }

        foreach (var claim in tokenClaims)
        {
            if (string.Equals(claim.Type, type, StringComparison.OrdinalIgnoreCase))
            {
                return claim.Value;
            }
        }

        return null;
    }

    private static void AddAll(List<Claim> tokenClaims, string type, List<string> into)
    {
        foreach (var claim in tokenClaims)
        {
            if (string.Equals(claim.Type, type, StringComparison.OrdinalIgnoreCase) && !into.Contains(claim.Value, StringComparer.Ordinal))
            {
                into.Add(claim.Value);
            }
        }
    }
}
