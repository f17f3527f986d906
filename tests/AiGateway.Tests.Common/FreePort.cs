using System.Net;
using System.Net.Sockets;

namespace AiGateway.Tests.Common;

/// <summary>Free loopback TCP ports, for the few servers that must know their port before they start.</summary>
/// <remarks>
/// Prefer binding to port 0 where the server allows it: the port is released before it is returned,
/// so another process can take it in between. Callers that cannot bind to 0 should retry on
/// "address in use" (as <see cref="RedisServer"/> does).
/// </remarks>
public static class FreePort
{
    /// <summary>Returns a TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int Get()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
