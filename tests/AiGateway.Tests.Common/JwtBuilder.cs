using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Tests.Common;

/// <summary>
/// Builds compact JWS access tokens shaped like those of Entra ID v1/v2 or a generic OIDC provider,
/// including the malformed and forged variants a relying party must reject.
/// </summary>
/// <remarks>
/// Defaults: <c>iss</c> = the issuer, <c>aud</c> = <c>api://aigateway</c>, <c>sub</c> (and <c>oid</c> for Entra)
/// = a new GUID, <c>iat</c>/<c>nbf</c> = now, <c>exp</c> = now + 1 hour, RS256 with the issuer's current key.
/// Every method returns the same builder; <see cref="Build"/> can be called more than once.
/// </remarks>
public sealed class JwtBuilder
{
    /// <summary>The audience tokens carry unless <see cref="Audience(string)"/> says otherwise.</summary>
    public const string DefaultAudience = "api://aigateway";

    private static readonly Lazy<RSA> ForeignRsa = new(() => RSA.Create(2048));

    private readonly SigningKeyRing _keys;
    private readonly TokenShape _shape;
    private readonly string _tenantId;
    private readonly string _clientAppId;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, object> _extraClaims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object> _extraHeader = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removedClaims = new(StringComparer.Ordinal);

    private string? _issuer;
    private string? _audience;
    private string _subject = Guid.NewGuid().ToString();
    private string? _oid;
    private string? _name;
    private string? _preferredUsername;
    private string? _upn;
    private string? _email;
    private string[]? _roles;
    private string[]? _groups;
    private string? _scopes;
    private string? _workloadAppId;
    private DateTimeOffset? _notBefore;
    private DateTimeOffset? _expires;
    private DateTimeOffset? _issuedAt;
    private Signing _signing = Signing.CurrentKey;
    private string? _signingKeyId;

    internal JwtBuilder(string issuer, SigningKeyRing keys, TokenShape shape, string tenantId, string clientAppId, string audience, TimeProvider time)
    {
        _issuer = issuer;
        _keys = keys;
        _shape = shape;
        _tenantId = tenantId;
        _clientAppId = clientAppId;
        _audience = audience;
        _time = time;
    }

    private enum Signing
    {
        CurrentKey,
        SpecificKey,
        AlgNone,
        Hs256WithPublicKey,
        ForeignKey,
    }

    /// <summary>
    /// A builder that signs with <paramref name="signingKey"/> (RS256, its <see cref="SecurityKey.KeyId"/> as <c>kid</c>),
    /// for tests that configure the relying party with the key directly instead of running a <see cref="TestOidcIssuer"/>.
    /// </summary>
    public static JwtBuilder ForIssuer(
        string issuer,
        RsaSecurityKey signingKey,
        TokenShape shape = TokenShape.GenericOidc,
        string? tenantId = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(issuer);
        return new JwtBuilder(
            issuer,
            SigningKeyRing.FromKey(signingKey),
            shape,
            tenantId ?? Guid.NewGuid().ToString(),
            Guid.NewGuid().ToString(),
            DefaultAudience,
            timeProvider ?? TimeProvider.System);
    }

    /// <summary>Sets <c>aud</c>.</summary>
    public JwtBuilder Audience(string audience)
    {
        _audience = audience;
        return this;
    }

    /// <summary>Sets <c>iss</c> (e.g. another tenant's issuer, signed by this issuer's key).</summary>
    public JwtBuilder Issuer(string issuer)
    {
        _issuer = issuer;
        return this;
    }

    /// <summary>Sets <c>sub</c>; for Entra shapes also <c>oid</c> unless <see cref="Oid(string)"/> is called.</summary>
    public JwtBuilder Subject(string subject)
    {
        _subject = subject;
        return this;
    }

    /// <summary>Sets <c>oid</c> (Entra shapes only; ignored for generic OIDC, which has no <c>oid</c>).</summary>
    public JwtBuilder Oid(string oid)
    {
        _oid = oid;
        return this;
    }

    /// <summary>Sets <c>name</c>.</summary>
    public JwtBuilder Name(string name)
    {
        _name = name;
        return this;
    }

    /// <summary>Sets <c>preferred_username</c>.</summary>
    public JwtBuilder PreferredUsername(string preferredUsername)
    {
        _preferredUsername = preferredUsername;
        return this;
    }

    /// <summary>Sets <c>upn</c>; for Entra v1 also <c>unique_name</c>.</summary>
    public JwtBuilder Upn(string upn)
    {
        _upn = upn;
        return this;
    }

    /// <summary>Sets <c>email</c>.</summary>
    public JwtBuilder Email(string email)
    {
        _email = email;
        return this;
    }

    /// <summary>Sets the <c>roles</c> array (app roles).</summary>
    public JwtBuilder Roles(params string[] roles)
    {
        _roles = roles;
        return this;
    }

    /// <summary>Sets the <c>groups</c> array (group object ids).</summary>
    public JwtBuilder Groups(params string[] groups)
    {
        _groups = groups;
        return this;
    }

    /// <summary>Sets delegated scopes, space-separated: <c>scp</c> for Entra, <c>scope</c> (RFC 9068) for generic OIDC.</summary>
    public JwtBuilder Scopes(string spaceSeparatedScopes)
    {
        _scopes = spaceSeparatedScopes;
        return this;
    }

    /// <summary>
    /// Makes this an app-only (client-credentials) token for <paramref name="clientAppId"/>: no user claims, no scopes.
    /// Entra v2: <c>idtyp: "app"</c>, <c>azp</c> = app id, <c>oid</c> = <c>sub</c> = service principal id.
    /// Entra v1: <c>appid</c> = app id, <c>oid</c> = <c>sub</c> = service principal id.
    /// Generic: <c>azp</c> = <c>client_id</c> = app id.
    /// Call <see cref="Scopes(string)"/> afterwards to forge an app token that also carries scopes.
    /// </summary>
    public JwtBuilder Workload(string clientAppId)
    {
        _workloadAppId = clientAppId;
        _scopes = null;
        _name = null;
        _preferredUsername = null;
        _upn = null;
        _email = null;
        return this;
    }

    /// <summary>Adds or overrides any payload claim; applied after every other claim.</summary>
    public JwtBuilder Claim(string name, object value)
    {
        _removedClaims.Remove(name);
        _extraClaims[name] = value;
        return this;
    }

    /// <summary>Leaves a claim out, including registered ones (<c>exp</c>, <c>nbf</c>, <c>iat</c>, <c>aud</c>, <c>iss</c>).</summary>
    public JwtBuilder WithoutClaim(string name)
    {
        _extraClaims.Remove(name);
        _removedClaims.Add(name);
        return this;
    }

    /// <summary>Adds a JOSE header parameter (e.g. <c>typ</c>, <c>jku</c>).</summary>
    public JwtBuilder HeaderClaim(string name, object value)
    {
        _extraHeader[name] = value;
        return this;
    }

    /// <summary>Sets <c>nbf</c> and <c>exp</c>; <c>iat</c> = <paramref name="notBefore"/>.</summary>
    public JwtBuilder Lifetime(DateTimeOffset notBefore, DateTimeOffset expires)
    {
        _notBefore = notBefore;
        _expires = expires;
        _issuedAt = notBefore;
        return this;
    }

    /// <summary>A token that expired 10 minutes ago (beyond the usual 5-minute clock skew).</summary>
    public JwtBuilder Expired()
    {
        var now = _time.GetUtcNow();
        return Lifetime(now.AddMinutes(-70), now.AddMinutes(-10));
    }

    /// <summary>A token that becomes valid in 10 minutes (beyond the usual 5-minute clock skew).</summary>
    public JwtBuilder NotYetValid()
    {
        var now = _time.GetUtcNow();
        Lifetime(now.AddMinutes(10), now.AddMinutes(70));
        _issuedAt = now;
        return this;
    }

    /// <summary>Signs with a specific key of the issuer, published or already removed.</summary>
    public JwtBuilder SignWithKey(string kid)
    {
        _keys.GetPublicKey(kid); // fail here, not in Build, for an unknown kid
        _signing = Signing.SpecificKey;
        _signingKeyId = kid;
        return this;
    }

    /// <summary>Attack: header <c>alg: "none"</c> and an empty signature.</summary>
    public JwtBuilder UnsignedAlgNone()
    {
        _signing = Signing.AlgNone;
        return this;
    }

    /// <summary>
    /// Attack (algorithm confusion): HS256 keyed with the issuer's public key as PEM bytes, header <c>kid</c> = current kid.
    /// A relying party that lets the token choose the algorithm would verify it with the public key.
    /// </summary>
    public JwtBuilder SignedHs256WithPublicKey()
    {
        _signing = Signing.Hs256WithPublicKey;
        return this;
    }

    /// <summary>Attack: RS256 with an RSA key that is not published, but header <c>kid</c> = the current kid.</summary>
    public JwtBuilder SignedWithForeignKey()
    {
        _signing = Signing.ForeignKey;
        return this;
    }

    /// <summary>The compact serialization <c>header.payload.signature</c>.</summary>
    public string Build()
    {
        var now = _time.GetUtcNow();
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = _removedClaims.Contains("iss") ? null : _issuer,
            Audience = _removedClaims.Contains("aud") ? null : _audience,
            IssuedAt = _removedClaims.Contains("iat") ? null : (_issuedAt ?? now).UtcDateTime,
            NotBefore = _removedClaims.Contains("nbf") ? null : (_notBefore ?? now).UtcDateTime,
            Expires = _removedClaims.Contains("exp") ? null : (_expires ?? now.AddHours(1)).UtcDateTime,
            Claims = BuildClaims(),
            SigningCredentials = BuildSigningCredentials(),
        };
        if (_extraHeader.Count > 0)
        {
            descriptor.AdditionalHeaderClaims = new Dictionary<string, object>(_extraHeader, StringComparer.Ordinal);
        }

        // Defaults would put back the times a test deliberately left out.
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(descriptor);
    }

    /// <inheritdoc cref="Build"/>
    public override string ToString() => Build();

    private Dictionary<string, object> BuildClaims()
    {
        var claims = new Dictionary<string, object>(StringComparer.Ordinal);
        var isApp = _workloadAppId is not null;
        var oid = _oid ?? _subject;

        claims["sub"] = _subject;
        switch (_shape)
        {
            case TokenShape.EntraV2:
                claims["oid"] = oid;
                claims["tid"] = _tenantId;
                claims["ver"] = "2.0";
                claims["azp"] = _workloadAppId ?? _clientAppId;
                claims["azpacr"] = isApp ? "1" : "0";
                if (isApp)
                {
                    claims["idtyp"] = "app";
                }

                break;
            case TokenShape.EntraV1:
                claims["oid"] = oid;
                claims["tid"] = _tenantId;
                claims["ver"] = "1.0";
                claims["appid"] = _workloadAppId ?? _clientAppId;
                claims["appidacr"] = isApp ? "1" : "0";
                if (_upn is not null)
                {
                    claims["unique_name"] = _upn;
                }

                break;
            case TokenShape.GenericOidc:
                if (isApp)
                {
                    claims["azp"] = _workloadAppId!;
                    claims["client_id"] = _workloadAppId!;
                }
                else
                {
                    claims["email"] = $"user-{_subject}@example.test";
                }

                break;
            default:
                throw new InvalidOperationException($"Unknown token shape {_shape}.");
        }

        AddIfSet(claims, "name", _name);
        AddIfSet(claims, "preferred_username", _preferredUsername);
        AddIfSet(claims, "upn", _upn);
        AddIfSet(claims, "email", _email);
        AddIfSet(claims, _shape == TokenShape.GenericOidc ? "scope" : "scp", _scopes);
        if (_roles is not null)
        {
            claims["roles"] = _roles;
        }

        if (_groups is not null)
        {
            claims["groups"] = _groups;
        }

        foreach (var (name, value) in _extraClaims)
        {
            claims[name] = value;
        }

        foreach (var name in _removedClaims)
        {
            claims.Remove(name);
        }

        return claims;
    }

    private SigningCredentials? BuildSigningCredentials() => _signing switch
    {
        Signing.CurrentKey => new SigningCredentials(_keys.GetSigningKey(_keys.CurrentKeyId), SecurityAlgorithms.RsaSha256),
        Signing.SpecificKey => new SigningCredentials(_keys.GetSigningKey(_signingKeyId!), SecurityAlgorithms.RsaSha256),
        Signing.AlgNone => null, // JsonWebTokenHandler writes alg "none" and an empty signature
        Signing.Hs256WithPublicKey => new SigningCredentials(
            new SymmetricSecurityKey(_keys.GetPublicKeyPem(_keys.CurrentKeyId)) { KeyId = _keys.CurrentKeyId },
            SecurityAlgorithms.HmacSha256),
        Signing.ForeignKey => new SigningCredentials(
            new RsaSecurityKey(ForeignRsa.Value) { KeyId = _keys.CurrentKeyId },
            SecurityAlgorithms.RsaSha256),
        _ => throw new InvalidOperationException($"Unknown signing mode {_signing}."),
    };

    private static void AddIfSet(Dictionary<string, object> claims, string name, string? value)
    {
        if (value is not null)
        {
            claims[name] = value;
        }
    }
}
