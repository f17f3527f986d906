using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Identity;

/// <summary>
/// Remembers bearer tokens that passed full validation so a client re-sending the same token skips the RSA
/// verification and claim parsing (the bulk of a request's authentication cost).
/// </summary>
/// <remarks>
/// Trade-offs, each bounded so the cache never accepts what full validation would refuse:
/// <list type="bullet">
/// <item>Lifetime: an entry lives until min(token <c>exp</c>, validation + 5 min). Full validation accepts a token
/// until <c>exp</c> + clock skew, so a hit is never later than a miss would have been.</item>
/// <item>Key removal: an entry remembers the signing-key configuration object it was validated against; when the
/// scheme's configuration manager returns a different object (any JWKS refresh: the automatic interval or a
/// refresh forced by an unknown kid), every entry of that scheme misses and is validated afresh. A removed key
/// therefore stops working exactly when it would without the cache.</item>
/// <item>Keys: SHA-256 of scheme and token. A non-cryptographic hash would let an attacker craft a colliding
/// token; the token text itself is not kept.</item>
/// <item>Size: at most <c>capacity</c> entries; when full, expired entries are swept and, if still full, new
/// tokens are simply not cached (validation still runs, nothing is refused).</item>
/// <item>Claims: each hit returns a copy of the cached identity, so a request cannot change another's claims.
/// Roles and agency are resolved from the claims per request, so agency-file reloads still apply at once.</item>
/// </list>
/// </remarks>
internal sealed class ValidatedTokenCache
{
    public static readonly TimeSpan MaxEntryLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<UInt128, Entry> _entries = new();
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private int _count;

    public ValidatedTokenCache(TimeProvider time, int capacity = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _capacity = capacity;
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// The identity of a token validated earlier for <paramref name="scheme"/> against <paramref name="configuration"/>
    /// (the signing-key configuration now in force), while its entry has not expired.
    /// </summary>
    public bool TryGet(string token, string scheme, object? configuration, [NotNullWhen(true)] out ClaimsIdentity? identity)
    {
        var key = KeyOf(scheme, token);
        if (_entries.TryGetValue(key, out var entry))
        {
            if (_time.GetUtcNow() < entry.ExpiresAt && ReferenceEquals(entry.Configuration, configuration))
            {
                identity = entry.Identity.Clone();
                return true;
            }

            Remove(key, entry);
        }

        identity = null;
        return false;
    }

    /// <summary>Caches a token that passed full validation; ignored when it is about to expire or the cache is full.</summary>
    public void Add(string token, string scheme, object? configuration, ClaimsIdentity identity, DateTimeOffset validTo)
    {
        var now = _time.GetUtcNow();
        var expiresAt = validTo < now + MaxEntryLifetime ? validTo : now + MaxEntryLifetime;
        if (expiresAt <= now)
        {
            return;
        }

        if (Volatile.Read(ref _count) >= _capacity)
        {
            Sweep(now);
            if (Volatile.Read(ref _count) >= _capacity)
            {
                return;
            }
        }

        var entry = new Entry(identity.Clone(), configuration, expiresAt);
        var key = KeyOf(scheme, token);
        if (_entries.TryAdd(key, entry))
        {
            Interlocked.Increment(ref _count);
        }
        else
        {
            _entries[key] = entry;
        }
    }

    /// <summary>
    /// JwtBearer <c>OnMessageReceived</c>: answers a cached token without validating it again.
    /// </summary>
    public async Task OnMessageReceivedAsync(MessageReceivedContext context)
    {
        var token = GatewayAuthentication.GetBearerToken(context.Request);
        if (token is null)
        {
            return;
        }

        // The token may have come in x-api-key / api-key (SDKs of those dialects); JwtBearer itself reads only Authorization.
        context.Token = token;
        var configuration = await CurrentConfigurationAsync(context.Options, context.HttpContext.RequestAborted);
        if (TryGet(token, context.Scheme.Name, configuration, out var identity))
        {
            context.Principal = new ClaimsPrincipal(identity);
            context.Success();
        }
    }

    /// <summary>
    /// JwtBearer <c>OnTokenValidated</c> (the last step of a successful validation): caches the token when its signing
    /// key belongs to the configuration now in force, so a refresh racing with this request cannot attach an entry
    /// validated with an old key to the new configuration.
    /// </summary>
    public async Task OnTokenValidatedAsync(TokenValidatedContext context)
    {
        if (context.SecurityToken is not JsonWebToken jwt || context.Principal?.Identity is not ClaimsIdentity identity)
        {
            return;
        }

        var configuration = await CurrentConfigurationAsync(context.Options, context.HttpContext.RequestAborted);
        if (!IsCurrentKey(jwt.SigningKey, configuration, context.Options.TokenValidationParameters))
        {
            return;
        }

        Add(jwt.EncodedToken, context.Scheme.Name, configuration, identity, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

    private static async ValueTask<object?> CurrentConfigurationAsync(JwtBearerOptions options, CancellationToken cancel) =>
        options.ConfigurationManager is { } manager ? await manager.GetConfigurationAsync(cancel) : options.Configuration;

    private static bool IsCurrentKey(SecurityKey? key, object? configuration, TokenValidationParameters parameters)
    {
        if (key is null)
        {
            return false;
        }

        // Static keys (the dev issuer) change only with a restart.
        if (ReferenceEquals(key, parameters.IssuerSigningKey) || (parameters.IssuerSigningKeys is { } fixedKeys && fixedKeys.Contains(key)))
        {
            return true;
        }

        return configuration is Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration oidc && oidc.SigningKeys.Contains(key);
    }

    private static UInt128 KeyOf(string scheme, string token)
    {
        var length = Encoding.UTF8.GetMaxByteCount(scheme.Length + 1 + token.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(scheme, rented);
            rented[written++] = 0;
            written += Encoding.UTF8.GetBytes(token, rented.AsSpan(written));
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(rented.AsSpan(0, written), hash);
            return new UInt128(BitConverter.ToUInt64(hash), BitConverter.ToUInt64(hash[8..]));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.ExpiresAt <= now)
            {
                Remove(key, entry);
            }
        }
    }

    private void Remove(UInt128 key, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<UInt128, Entry>(key, entry)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private sealed record Entry(ClaimsIdentity Identity, object? Configuration, DateTimeOffset ExpiresAt);
}
