using AiGateway;
using AiGateway.Audit;
using AiGateway.Configuration;
using AiGateway.Identity;

// Thin entry point: sub-commands first, otherwise the gateway.
if (args.Length > 0 && args[0] == "token")
{
    return TokenCommand.Run(args[1..], Console.Out, Console.Error);
}

if (args.Length > 0 && args[0] == "probe")
{
    return await AiGateway.Health.ProbeCommand.RunAsync(args[1..], Console.Error);
}

if (args.Length > 0 && args[0] == "audit")
{
    return AuditCommand.Run(args[1..], Console.Out, Console.Error);
}

try
{
    await GatewayApplication.Build(args).RunAsync();
    return 0;
}
catch (ConfigValidationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

/// <summary>Visible to tests that host the gateway.</summary>
public partial class Program;
