using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AiGateway.Configuration;

namespace AiGateway.Scim;

/// <summary>
/// The per-agency SCIM provisioning secret, read from its reference on each SCIM request (so a rotated env var or
/// secret file applies without restart) and compared in constant time. With <c>generateWhenUnset</c> (demo only) an
/// unset env var falls back to a random secret created once in <c>&lt;data dir&gt;/&lt;agency&gt;-scim-token</c>, mode 0600.
/// </summary>
internal sealed partial class ScimCredentials
{
    private readonly string _dataDirectory;
    private readonly string _configDirectory;
    private readonly ILogger<ScimCredentials> _logger;
    private readonly ConcurrentDictionary<string, string> _generated = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public ScimCredentials(GatewayPaths paths, ILogger<ScimCredentials> logger)
    {
        _dataDirectory = paths.DataDirectory;
        _configDirectory = paths.ConfigDirectory;
        _logger = logger;
    }

    public static string GeneratedTokenPath(string dataDirectory, string agency) => Path.Combine(dataDirectory, agency + "-scim-token");

    /// <summary>The agency's current SCIM secret, or null when SCIM is off or the secret cannot be read.</summary>
    public string? Current(AgencyPolicy agency)
    {
        var governance = agency.Governance;
        if (governance.ScimToken is not { } reference)
        {
            return null;
        }

        if (reference.Env is not null)
        {
            var value = Environment.GetEnvironmentVariable(reference.Env);
            if (!string.IsNullOrWhiteSpace(value))
            {
                return value.Trim();
            }

            return governance.GenerateScimToken ? Generated(agency.Name) : null;
        }

        var path = Path.IsPathRooted(reference.File!) ? reference.File! : Path.Combine(_configDirectory, reference.File!);
        try
        {
            var secret = File.ReadAllText(path).Trim();
            return secret.Length == 0 ? null : secret;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Checks an <c>Authorization: Bearer …</c> header against the agency's secret in constant time.</summary>
    public bool Verify(AgencyPolicy agency, string? authorization)
    {
        var expected = Current(agency);
        if (expected is null || authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Hashing first makes the comparison independent of both lengths.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[7..].Trim()));
        var wanted = SHA256.HashData(Encoding.UTF8.GetBytes(expected));
        return CryptographicOperations.FixedTimeEquals(given, wanted);
    }

    private string Generated(string agency)
    {
        if (_generated.TryGetValue(agency, out var cached))
        {
            return cached;
        }

        lock (_gate)
        {
            var path = GeneratedTokenPath(_dataDirectory, agency);
            if (File.Exists(path))
            {
                var existing = File.ReadAllText(path).Trim();
                if (existing.Length > 0)
                {
                    return _generated[agency] = existing;
                }
            }

            Directory.CreateDirectory(_dataDirectory);
            var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(path, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(secret + "\n"));
            }

            Log.GeneratedToken(_logger, agency, path);
            return _generated[agency] = secret;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ScimTokenGenerated, LogLevel.Warning, "SCIM credential for agency {Agency} generated (demo only) in {Path}.", EventName = "ScimTokenGenerated")]
        public static partial void GeneratedToken(ILogger logger, string agency, string path);
    }
}
