using System.Security.Cryptography;

namespace AiGateway.Audit;

/// <summary>
/// The checkpoint signing key: from the configured reference (env var or file), else a key generated on first run
/// in the data directory (<c>audit-signing.key</c>, mode 0600) — the demo's path. Never logged.
/// </summary>
internal static class AuditSigningKey
{
    public const string GeneratedFileName = "audit-signing.key";

    /// <summary>The key bytes and where they came from (for a log line that names the source, never the key).</summary>
    public static (byte[] Key, string Source, bool Generated) Resolve(AuditSettings settings, string dataDirectory)
    {
        if (settings.SigningKey is not null)
        {
            return (AuditJournalVerifier.KeyBytes(settings.SigningKey), "configured reference", false);
        }

        var path = Path.Combine(dataDirectory, GeneratedFileName);
        if (File.Exists(path))
        {
            return (AuditJournalVerifier.KeyBytes(File.ReadAllText(path)), path, false);
        }

        Directory.CreateDirectory(dataDirectory);
        var text = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new StreamWriter(path, System.Text.Encoding.ASCII, options))
        {
            file.Write(text);
            file.Write('\n');
        }

        return (AuditJournalVerifier.KeyBytes(text), path, true);
    }
}
