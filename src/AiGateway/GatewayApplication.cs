using AiGateway.Audit;
using AiGateway.Configuration;
using AiGateway.Entitlements;
using AiGateway.Forwarding;
using AiGateway.Governance;
using AiGateway.Health;
using AiGateway.Identity;
using AiGateway.Inspection;
using AiGateway.Markings;
using AiGateway.Model;
using AiGateway.Parsing;
using AiGateway.Telemetry;
using AiGateway.RateLimiting;
using AiGateway.Scim;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway;

/// <summary>Composes the gateway: services, then the request path stage by stage (see docs and ARCHITECTURE.md).</summary>
public static class GatewayApplication
{
    /// <summary>Builds the gateway web application from command-line arguments (<c>--urls</c>, <c>--Gateway:ConfigDirectory</c>, …).</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, EnvironmentName = GatewayPaths.ArgumentValue(args, "--environment") ?? GatewayPaths.DefaultEnvironment() });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        var paths = GatewayPaths.From(builder.Configuration);
        // Invalid configuration at start-up stops the process with every error listed.
        var snapshot = GatewayConfigLoader.Load(paths.ConfigDirectory, builder.Environment.IsProduction());

        var services = builder.Services;
        services.AddSingleton(paths);
        services.AddSingleton(sp => new GatewayConfigStore(snapshot, builder.Environment.IsProduction(), sp.GetRequiredService<ILogger<GatewayConfigStore>>()));
        services.AddSingleton<EmbeddedSimulator>();
        services.AddSingleton<IProxyConfigProvider, GatewayProxyConfigProvider>();
        services.AddSingleton<IForwarderHttpClientFactory, UpstreamHttpClientFactory>();
        services.AddReverseProxy().AddTransforms(transforms =>
        {
            // Only allow-listed client headers go upstream (set in UpstreamRequestTransform); no X-Forwarded-* to vendors.
            transforms.CopyRequestHeaders = false;
            transforms.UseDefaultForwarders = false;
            transforms.AddRequestTransform(UpstreamRequestTransform.ApplyAsync);
            transforms.AddRequestTransform(UpstreamTimingFeature.MarkAsync);
            transforms.AddResponseTransform(UpstreamResponseTransform.ApplyAsync);
        });
        services.AddGatewayAuthentication(snapshot, new IdentityOptions
        {
            DataDirectory = paths.DataDirectory,
            MinimumKeyRefreshInterval = TimeSpan.FromSeconds(Math.Max(1, builder.Configuration.GetValue("Gateway:Identity:MinimumKeyRefreshSeconds", 30d))),
            // How long a key the issuer stopped publishing can keep validating when no new-key token forces a refresh.
            KeyRefreshInterval = TimeSpan.FromMinutes(Math.Max(1, builder.Configuration.GetValue("Gateway:Identity:KeyRefreshMinutes", 60d))),
        });
        services.AddSingleton(new MarkingScanner());
        services.AddGatewayTelemetry(builder.Configuration, snapshot);
        services.AddGatewayAudit();
        services.TryAddSingleton(TimeProvider.System);
        services.AddGatewayRateLimiting(snapshot);
        services.AddGatewayDirectory(snapshot);
        services.AddGatewayGovernance();
        services.AddGatewayHealthChecks();
        services.AddGatewayShutdown(builder.Configuration);

        var app = builder.Build();
        app.UseMiddleware<GatewayRequestMiddleware>();
        app.UseRouting();

        app.MapGatewayHealthChecks();

        app.MapCallerGet("/v1/models", ModelsEndpoint.HandleAsync);
        app.MapCallerGet("/admin/v1/usage", context => context.RequestServices.GetRequiredService<UsageEndpoint>().HandleAsync(context));

        app.MapReverseProxy(proxy =>
        {
            proxy.UseCaller();                                     // 1–2 authenticate, resolve caller; directory: deprovisioned callers, SCIM group roles
            proxy.UseAuditGate();                                  // 9 audit unavailable: fail-closed refuses, fail-open counts
            proxy.UseMiddleware<RequestPreparationMiddleware>();   // 3 read, parse, resolve model
            proxy.UseMiddleware<EntitlementMiddleware>();          // 4 entitle
            proxy.UseMiddleware<PromptInspectionMiddleware>();     // 5 inspect the prompt
            proxy.UseMiddleware<RateLimitMiddleware>();            // 6 reserve limits, reconcile after the answer
            proxy.UseMiddleware<AnswerInspectionMiddleware>();     // 8 inspect the answer (wraps the response body)
            proxy.UseMiddleware<FailoverMiddleware>();             // 7 forward with failover
            proxy.UseLoadBalancing();
        });

        app.MapScim();
        app.MapGovernance();

        app.MapFallback(GatewayRequestMiddleware.UnknownEndpointAsync);
        return app;
    }
}

/// <summary>Where the gateway reads its configuration and keeps its data.</summary>
internal sealed record GatewayPaths(string ConfigDirectory, string DataDirectory)
{
    /// <summary>
    /// ASPNETCORE_ENVIRONMENT / DOTNET_ENVIRONMENT when set. Otherwise a Debug build (what <c>dotnet run</c>
    /// builds for the embedded demo) is Development and a Release build (what the container ships) is
    /// Production, where the dev issuer is refused.
    /// </summary>
    public static string DefaultEnvironment() =>
        Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
        ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
#if DEBUG
        ?? Environments.Development;
#else
        ?? Environments.Production;
#endif

    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/> (<c>--name value</c> or <c>--name=value</c>).</summary>
    public static string? ArgumentValue(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == name && i + 1 < args.Length)
            {
                return args[i + 1];
            }

            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 1)..];
            }
        }

        return null;
    }

    public static GatewayPaths From(IConfiguration configuration)
    {
        var config = configuration["Gateway:ConfigDirectory"];
        if (string.IsNullOrEmpty(config))
        {
            // ./config when run from the repository root, else the copy next to the binary.
            config = File.Exists(Path.Combine("config", GatewayConfigLoader.GatewayFileName))
                ? "config"
                : Path.Combine(AppContext.BaseDirectory, "config");
        }

        var data = configuration["Gateway:DataDirectory"];
        return new GatewayPaths(Path.GetFullPath(config), Path.GetFullPath(string.IsNullOrEmpty(data) ? "data" : data));
    }
}
