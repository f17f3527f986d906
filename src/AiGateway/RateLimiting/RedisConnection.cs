using StackExchange.Redis;

namespace AiGateway.RateLimiting;

/// <summary>
/// How the gateway's Redis stores (limits, SCIM directory) open and close their connections: the <c>limitStore</c>
/// settings, no waiting for Redis at start-up (it may come later; the stores' failure handling covers the gap), and a
/// bounded close that lets queued writes reach Redis without a dead Redis holding up the shutdown.
/// </summary>
internal static class RedisConnection
{
    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(2);

    public static ConnectionMultiplexer Connect(string configuration, string? password, int timeoutMilliseconds, string clientName)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Max(timeoutMilliseconds, 1000);
        options.AsyncTimeout = timeoutMilliseconds;
        options.SyncTimeout = timeoutMilliseconds;
        options.ConnectRetry = 1;
        options.ClientName = clientName;
        if (password is not null)
        {
            options.Password = password;
        }

        return ConnectionMultiplexer.Connect(options);
    }

    public static async ValueTask CloseAsync(ConnectionMultiplexer redis)
    {
        try
        {
            await redis.CloseAsync(allowCommandsToComplete: true).WaitAsync(s_closeTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or RedisException)
        {
        }

        await redis.DisposeAsync();
    }
}
