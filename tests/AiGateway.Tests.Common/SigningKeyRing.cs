using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Tests.Common;

/// <summary>
/// The RSA keys an issuer has ever created: which one signs, which ones are published.
/// Removed keys are kept so tests can still sign with them and prove they are rejected.
/// </summary>
internal sealed class SigningKeyRing : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RSA> _keys = new(StringComparer.Ordinal);
    private readonly List<string> _published = [];
    private readonly RSA? _borrowed;
    private string _currentKeyId;

    private SigningKeyRing(string kid, RSA rsa, bool borrowed)
    {
        _borrowed = borrowed ? rsa : null;
        _keys.Add(kid, rsa);
        _published.Add(kid);
        _currentKeyId = kid;
    }

    public static SigningKeyRing CreateWithNewKey() => new(NewKeyId(), RSA.Create(2048), borrowed: false);

    /// <summary>Wraps a caller's key; the caller keeps ownership.</summary>
    public static SigningKeyRing FromKey(RsaSecurityKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var kid = string.IsNullOrEmpty(key.KeyId) ? NewKeyId() : key.KeyId;
        var rsa = key.Rsa ?? RSA.Create(key.Parameters);
        return new SigningKeyRing(kid, rsa, borrowed: key.Rsa is not null);
    }

    public string CurrentKeyId
    {
        get { lock (_gate) { return _currentKeyId; } }
    }

    public IReadOnlyList<string> PublishedKeyIds
    {
        get { lock (_gate) { return [.. _published]; } }
    }

    public string Rotate()
    {
        var kid = NewKeyId();
        var rsa = RSA.Create(2048);
        lock (_gate)
        {
            _keys.Add(kid, rsa);
            _published.Add(kid);
            _currentKeyId = kid;
        }

        return kid;
    }

    public void Unpublish(string kid)
    {
        lock (_gate)
        {
            if (!_keys.ContainsKey(kid))
            {
                throw new ArgumentException($"No key with kid '{kid}' was ever created by this issuer.", nameof(kid));
            }

            _published.Remove(kid);
        }
    }

    /// <summary>The private signing key (published or not) for <paramref name="kid"/>.</summary>
    public RsaSecurityKey GetSigningKey(string kid) => new(GetRsa(kid)) { KeyId = kid };

    /// <summary>The public half only.</summary>
    public RsaSecurityKey GetPublicKey(string kid) => new(GetRsa(kid).ExportParameters(includePrivateParameters: false)) { KeyId = kid };

    /// <summary>SubjectPublicKeyInfo PEM text as ASCII bytes (what an attacker would download and misuse as an HMAC secret).</summary>
    public byte[] GetPublicKeyPem(string kid) => System.Text.Encoding.ASCII.GetBytes(GetRsa(kid).ExportSubjectPublicKeyInfoPem());

    /// <summary>Public parameters of every published key, in publication order.</summary>
    public IReadOnlyList<(string Kid, RSAParameters Parameters)> GetPublishedKeys()
    {
        lock (_gate)
        {
            var result = new List<(string, RSAParameters)>(_published.Count);
            foreach (var kid in _published)
            {
                result.Add((kid, _keys[kid].ExportParameters(includePrivateParameters: false)));
            }

            return result;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var rsa in _keys.Values)
            {
                if (!ReferenceEquals(rsa, _borrowed))
                {
                    rsa.Dispose();
                }
            }
        }
    }

    private RSA GetRsa(string kid)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(kid, out var rsa)
                ? rsa
                : throw new ArgumentException($"No key with kid '{kid}' was ever created by this issuer.", nameof(kid));
        }
    }

    // Entra kids are base64url thumbprints; a random 20-byte value looks the same and never collides.
    private static string NewKeyId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(20));
}
