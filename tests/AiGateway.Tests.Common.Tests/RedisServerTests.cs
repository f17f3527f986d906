using System.Net;
using System.Net.Sockets;

namespace AiGateway.Tests.Common.Tests;

public sealed class RedisServerTests
{
    [Fact]
    public async Task Started_server_answers_ping_on_loopback()
    {
        await using var redis = await RedisServer.StartAsync();

        Assert.True(await redis.PingAsync());
        Assert.Equal($"127.0.0.1:{redis.Port}", redis.ConnectionString);
        Assert.True(redis.IsRunning);
    }

    [Fact]
    public async Task Killed_server_refuses_connections_and_restart_brings_it_back_on_the_same_port()
    {
        await using var redis = await RedisServer.StartAsync();
        var port = redis.Port;

        await redis.KillAsync();

        Assert.False(redis.IsRunning);
        using (var client = new TcpClient())
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        Assert.False(await redis.PingAsync());

        await redis.RestartAsync();

        Assert.Equal(port, redis.Port);
        Assert.True(await redis.PingAsync());
    }

    [Fact]
    public async Task Dispose_stops_the_server_and_deletes_its_directory()
    {
        var redis = await RedisServer.StartAsync();
        var directory = redis.WorkingDirectory;
        Assert.True(Directory.Exists(directory));

        await redis.DisposeAsync();

        Assert.False(Directory.Exists(directory));
        Assert.False(await redis.PingAsync());
    }

    [Fact]
    public void Free_port_can_be_bound()
    {
        var port = FreePort.Get();

        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();

        Assert.InRange(port, 1, 65535);
    }
}
