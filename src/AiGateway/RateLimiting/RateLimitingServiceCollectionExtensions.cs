using AiGateway.Configuration;

namespace AiGateway.RateLimiting;

/// <summary>Registers the limit store chosen in gateway.json (Redis shared by replicas, or embedded).</summary>
internal static class RateLimitingServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayRateLimiting(this IServiceCollection services, GatewaySnapshot snapshot)
    {
        services.AddSingleton<TokenCounter>();
        services.AddSingleton(sp => new LocalLimitFallback(sp.GetRequiredService<TimeProvider>()));
        var store = snapshot.LimitStore;
        if (store.Type == "redis")
        {
            // The store is bound at start-up: a change of limitStore needs a restart (limits themselves reload live).
            var password = store.RedisPassword is { } reference ? ReadSecret(reference, snapshot.ConfigDirectory) : null;
            services.AddSingleton<ILimitStore>(sp => RedisLimitStore.Connect(store.Redis!, password, store.TimeoutMilliseconds, TimeSpan.FromSeconds(store.BreakSeconds), sp.GetRequiredService<ILogger<RedisLimitStore>>()));
        }
        else
        {
            services.AddSingleton<ILimitStore>(sp => new EmbeddedLimitStore(sp.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton<UsageEndpoint>();
        return services;
    }

    private static string ReadSecret(CredentialReference reference, string configDirectory) =>
        reference.Env is not null
            ? Environment.GetEnvironmentVariable(reference.Env)!.Trim()
            : File.ReadAllText(Path.IsPathRooted(reference.File!) ? reference.File! : Path.Combine(configDirectory, reference.File!)).Trim();
}
