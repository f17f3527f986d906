namespace AiGateway.Audit;

/// <summary>
/// <c>audit verify &lt;dir&gt; [--key-file F | --key-env VAR] [--live]</c>: checks an audit journal's hash chain and
/// checkpoint signatures. Exit 0 when intact; 1 naming the first broken record (file and line); 2 for usage errors.
/// Without a key option the generated demo key next to the journal (<c>&lt;dir&gt;/../audit-signing.key</c>) is used
/// when present; otherwise only the chain is checked (and said so).
/// </summary>
internal static class AuditCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length < 2 || args[0] != "verify")
        {
            stderr.WriteLine("usage: audit verify <journal directory> [--key-file <file> | --key-env <variable>] [--live]");
            return 2;
        }

        var directory = Path.GetFullPath(args[1]);
        string? keyFile = null, keyEnv = null;
        var live = false;
        for (var i = 2; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--key-file" when i + 1 < args.Length:
                    keyFile = args[++i];
                    break;
                case "--key-env" when i + 1 < args.Length:
                    keyEnv = args[++i];
                    break;
                case "--live":
                    live = true;
                    break;
                default:
                    stderr.WriteLine($"audit verify: unknown option '{args[i]}'.");
                    return 2;
            }
        }

        byte[]? key = null;
        if (keyEnv is not null)
        {
            var value = Environment.GetEnvironmentVariable(keyEnv);
            if (string.IsNullOrWhiteSpace(value))
            {
                stderr.WriteLine($"audit verify: environment variable '{keyEnv}' is not set.");
                return 2;
            }

            key = AuditJournalVerifier.KeyBytes(value);
        }
        else
        {
            var generated = Path.GetFullPath(Path.Combine(directory, "..", AuditSigningKey.GeneratedFileName));
            if (keyFile is null && File.Exists(generated))
            {
                keyFile = generated;
            }

            if (keyFile is not null)
            {
                try
                {
                    key = AuditJournalVerifier.KeyBytes(File.ReadAllText(keyFile));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"audit verify: cannot read key file '{keyFile}' ({ex.GetType().Name}).");
                    return 2;
                }
            }
        }

        var result = AuditJournalVerifier.Verify(directory, key, live);
        if (result.Intact)
        {
            stdout.WriteLine($"{directory}: {result}");
            if (!result.SignaturesChecked)
            {
                stderr.WriteLine("warning: no signing key given; checkpoint signatures were not verified (use --key-file or --key-env).");
            }

            return 0;
        }

        stderr.WriteLine(result.ToString());
        return 1;
    }
}
