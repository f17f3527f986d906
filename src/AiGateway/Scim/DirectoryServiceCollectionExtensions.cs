using AiGateway.Configuration;

namespace AiGateway.Scim;

/// <summary>Registers the directory store (Redis when the limit store is Redis, else embedded and persisted) and maps SCIM.</summary>
internal static class DirectoryServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayDirectory(this IServiceCollection services, GatewaySnapshot snapshot)
    {
        var store = snapshot.LimitStore;
        if (store.Type == "redis")
        {
            // Same Redis and connection options as the limit store; a change needs a restart, like the limit store.
            var password = store.RedisPassword is { } reference ? ReadSecret(reference, snapshot.ConfigDirectory) : null;
            services.AddSingleton<IDirectoryStore>(sp => RedisDirectoryStore.Connect(store.Redis!, password, Math.Max(store.TimeoutMilliseconds, 1000), sp.GetRequiredService<TimeProvider>()));
        }
        else
        {
            services.AddSingleton<IDirectoryStore>(sp => new EmbeddedDirectoryStore(sp.GetRequiredService<GatewayPaths>().DataDirectory, sp.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton<ScimCredentials>();
        services.AddSingleton<ScimEndpoints>();
        return services;
    }

    /// <summary>Maps <c>/scim/v2/{agency}/…</c> (every method; the handler answers 405 for the ones a resource lacks).</summary>
    public static void MapScim(this IEndpointRouteBuilder app)
    {
        app.Map("/scim/v2/{agency}/{**rest}", context => context.RequestServices.GetRequiredService<ScimEndpoints>().HandleAsync(context));

        // A demo secret (generateWhenUnset) is created at start-up so the operator can read it before the IdP calls.
        var credentials = app.ServiceProvider.GetRequiredService<ScimCredentials>();
        foreach (var agency in app.ServiceProvider.GetRequiredService<GatewayConfigStore>().Current.Agencies.Values)
        {
            if (agency.Governance.GenerateScimToken)
            {
                credentials.Current(agency);
            }
        }
    }

    private static string ReadSecret(CredentialReference reference, string configDirectory) =>
        reference.Env is not null
            ? Environment.GetEnvironmentVariable(reference.Env)!.Trim()
            : File.ReadAllText(Path.IsPathRooted(reference.File!) ? reference.File! : Path.Combine(configDirectory, reference.File!)).Trim();
}
