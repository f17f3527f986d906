using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Identity;

/// <summary>
/// The local dev issuer of the embedded demo: an RSA key created on first run in the data directory and
/// tokens minted with it by the <c>token</c> command. Agencies trust it only through a <c>dev</c> identity
/// provider, which configuration validation refuses when the environment is Production.
/// </summary>
internal sealed class DevIssuer
{
    public const string Audience = "api://aigateway-dev";
    private const string KeyFileName = "dev-issuer-key.json";

    private DevIssuer(RsaSecurityKey key) => SigningKey = key;

    public RsaSecurityKey SigningKey { get; }

    /// <summary>Each agency gets its own issuer string so a dev token selects exactly one agency.</summary>
    public static string IssuerFor(string agency) => $"https://dev-issuer.aigateway.invalid/{agency}";

    /// <summary>Loads the key from the data directory, creating it (owner-only permissions) on first run.</summary>
    public static DevIssuer LoadOrCreate(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, KeyFileName);
        var rsa = RSA.Create();
        if (File.Exists(path))
        {
            var stored = JsonSerializer.Deserialize<StoredKey>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path} is not a dev issuer key file; delete it to create a new key.");
            rsa.ImportPkcs8PrivateKey(Convert.FromBase64String(stored.Pkcs8), out _);
            return new DevIssuer(new RsaSecurityKey(rsa) { KeyId = stored.KeyId });
        }

        Directory.CreateDirectory(dataDirectory);
        rsa.KeySize = 2048;
        var keyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12));
        var json = JsonSerializer.Serialize(new StoredKey(keyId, Convert.ToBase64String(rsa.ExportPkcs8PrivateKey())));
        var temp = path + ".tmp";
        File.WriteAllText(temp, json);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // Two processes starting at once: the first rename wins and both then use that key.
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return LoadOrCreate(dataDirectory);
        }

        return new DevIssuer(new RsaSecurityKey(rsa) { KeyId = keyId });
    }

    /// <summary>Mints a token shaped like an Entra v2 access token.</summary>
    public string Mint(string agency, IReadOnlyList<string> roles, string subject, bool workload, TimeSpan lifetime, TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = subject,
            ["oid"] = subject,
            ["roles"] = roles.ToArray(),
            ["ver"] = "2.0",
        };
        if (workload)
        {
            claims["idtyp"] = "app";
            claims["azp"] = subject;
        }
        else
        {
            claims["scp"] = "access_as_user";
            claims["name"] = $"Demo user {subject}";
            claims["preferred_username"] = $"{subject}@{agency}.example.gov";
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = IssuerFor(agency),
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private sealed record StoredKey(string KeyId, string Pkcs8);
}
