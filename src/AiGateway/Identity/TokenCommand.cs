using System.Globalization;
using AiGateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace AiGateway.Identity;

/// <summary>
/// <c>token --agency A --role R [--role R2] [--subject ID] [--workload] [--minutes N]</c>: mints a dev-issuer
/// token for the embedded demo and prints only the token on stdout. Refused in Production and for agencies
/// that do not trust the dev issuer.
/// </summary>
internal static class TokenCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? agencyName = null, subject = null;
        var roles = new List<string>();
        var workload = false;
        var minutes = 60;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--agency" when i + 1 < args.Length:
                    agencyName = args[++i];
                    break;
                case "--role" when i + 1 < args.Length:
                    roles.Add(args[++i]);
                    break;
                case "--subject" when i + 1 < args.Length:
                    subject = args[++i];
                    break;
                case "--workload":
                    workload = true;
                    break;
                case "--minutes" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m is > 0 and <= 1440:
                    minutes = m;
                    i++;
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        if (agencyName is null || roles.Count == 0)
        {
            stderr.WriteLine("usage: token --agency <agency> --role <role> [--role <role>…] [--subject <id>] [--workload] [--minutes <1-1440>]");
            return 2;
        }

        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine([.. rest]).Build();
        var environment = configuration["environment"] ?? GatewayPaths.DefaultEnvironment();
        var isProduction = string.Equals(environment, "Production", StringComparison.OrdinalIgnoreCase);
        if (isProduction)
        {
            stderr.WriteLine("The local dev issuer is refused when the environment is Production (the demo runs as Development: a Debug build, or ASPNETCORE_ENVIRONMENT=Development).");
            return 3;
        }

        var paths = GatewayPaths.From(configuration);
        GatewaySnapshot snapshot;
        try
        {
            snapshot = GatewayConfigLoader.Load(paths.ConfigDirectory, isProduction);
        }
        catch (ConfigValidationException ex)
        {
            stderr.WriteLine(ex.Message);
            return 2;
        }

        if (!snapshot.Agencies.TryGetValue(agencyName, out var agency))
        {
            stderr.WriteLine($"Agency '{agencyName}' is not configured in {paths.ConfigDirectory}.");
            return 2;
        }

        if (!agency.IdentityProviders.Any(p => p.Type == IdentityProviderValidator.DevType))
        {
            stderr.WriteLine($"Agency '{agencyName}' does not trust the local dev issuer (no identity provider of type 'dev').");
            return 2;
        }

        foreach (var role in roles)
        {
            if (!agency.Roles.ContainsKey(role))
            {
                stderr.WriteLine($"Role '{role}' is not declared by agency '{agencyName}' (declared: {string.Join(", ", agency.Roles.Keys)}).");
                return 2;
            }
        }

        var dev = DevIssuer.LoadOrCreate(paths.DataDirectory);
        var token = dev.Mint(agencyName, roles, subject ?? (workload ? "demo-agent" : "demo-user"), workload, TimeSpan.FromMinutes(minutes), TimeProvider.System);
        stdout.WriteLine(token);
        return 0;
    }
}
