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
    public static Caller? Resolve(ClaimsPrincipal principal, GatewaySnapshot config, IssuerDirectory issuers)
    {
        var issuer = principal.FindFirst("iss")?.Value;
        if (issuer is null || !issuers.TryGet(issuer, out var registration) || !config.Agencies.TryGetValue(registration.Agency, out var agency))
        {
            return null;
        }

        var claims = registration.Provider.Claims;
        var subject = First(principal, claims.Subject) ?? First(principal, "oid") ?? First(principal, "sub");
        if (string.IsNullOrEmpty(subject))
        {
            return null;
        }

        var roles = new List<string>();
        AddAll(principal, claims.Roles ?? "roles", roles);
        var groups = new List<string>();
        AddAll(principal, claims.Groups ?? "groups", groups);
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

        var userName = First(principal, "upn") ?? First(principal, "preferred_username") ?? First(principal, "unique_name") ?? First(principal, "email");
        var clientApp = First(principal, "azp") ?? First(principal, "appid") ?? First(principal, "client_id");
        return new Caller
        {
            Agency = agency.Name,
            SubjectId = subject,
            Kind = KindOf(principal, userName, clientApp),
            Roles = roles,
            Groups = groups,
            Issuer = issuer,
            DisplayName = First(principal, claims.Name) ?? First(principal, "name"),
            UserName = userName,
            ClientAppId = clientApp,
            Clearance = ClearanceOf(principal, agency.Inspection.ClearanceClaim),
        };
    }

    /// <summary>An unreadable clearance value counts as the lowest level: deny when unsure.</summary>
    private static Markings.MarkingLevel? ClearanceOf(ClaimsPrincipal principal, string? claim)
    {
        var value = First(principal, claim);
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
    private static CallerKind KindOf(ClaimsPrincipal principal, string? userName, string? clientApp)
    {
        var idtyp = First(principal, "idtyp");
        if (string.Equals(idtyp, "app", StringComparison.OrdinalIgnoreCase))
        {
            return CallerKind.Workload;
        }

        if (string.Equals(idtyp, "user", StringComparison.OrdinalIgnoreCase))
        {
            return CallerKind.Person;
        }

        // RFC 9068: without a resource owner, sub identifies the client itself.
        if (clientApp is not null && string.Equals(First(principal, "sub"), clientApp, StringComparison.Ordinal))
        {
            return CallerKind.Workload;
        }

        // Entra puts delegated scopes in scp, RFC 9068 issuers in scope.
        var hasScope = principal.HasClaim(c => c.Type is "scp" or "scope" or "http://schemas.microsoft.com/identity/claims/scope");
        return clientApp is not null && !hasScope && userName is null ? CallerKind.Workload : CallerKind.Person;
    }

    private static string? First(ClaimsPrincipal principal, string? type) =>
        type is null ? null : principal.FindFirst(type)?.Value;

    private static void AddAll(ClaimsPrincipal principal, string type, List<string> into)
    {
        foreach (var claim in principal.FindAll(type))
        {
            if (!into.Contains(claim.Value, StringComparer.Ordinal))
            {
                into.Add(claim.Value);
            }
        }
    }
}
