using System.Net;
using System.Net.Sockets;
using System.Text;
using AiGateway.IntegrationTests.Infrastructure;

namespace AiGateway.IntegrationTests.Forwarding;

/// <summary>
/// The upstream request leaves in one write: headers and the (buffered, already inspected) body together. YARP's own
/// request content flushes the headers before streaming the body, which cost a second socket write and TCP segment
/// per request. Counted by the receiving kernel (Linux <c>TCP_INFO</c>: segments that carried data).
/// </summary>
public sealed class UpstreamWriteTests
{
    [Fact]
    public async Task The_upstream_request_arrives_in_one_tcp_segment()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var upstream = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("raw", "openai", upstream),
            UpstreamJson.Model("m", """{ "provider": "raw", "model": "m" }""")));
        var body = $$"""{"model":"m","messages":[{"role":"user","content":"{{new string('x', 900)}}"}]}""";

        var server = ServeOnceAsync(listener);
        using var response = await scenario.PostAsync("v1/chat/completions", body);
        var (request, dataSegments) = await server;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headerEnd = request.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.StartsWith("POST /v1/chat/completions HTTP/1.1\r\n", request, StringComparison.Ordinal);
        Assert.Contains($"\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n", request, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nContent-Type: application/json\r\n", request, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(body, request[(headerEnd + 4)..]);
        Assert.Equal(1, dataSegments);
    }

    /// <summary>
    /// Accepts one connection, reads one request (headers and Content-Length bytes), notes how many TCP segments with
    /// data the connection has received, answers a chat completion and closes.
    /// </summary>
    private static async Task<(string Request, int DataSegments)> ServeOnceAsync(TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var stream = client.GetStream();
        var buffer = new byte[256 * 1024];
        var total = 0;
        var expected = int.MaxValue;
        while (total < expected)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, read);
            total += read;
            var text = Encoding.UTF8.GetString(buffer, 0, total);
            var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            var lengthLine = text.Split("\r\n").FirstOrDefault(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            if (headerEnd >= 0 && lengthLine is not null)
            {
                expected = headerEnd + 4 + int.Parse(lengthLine["Content-Length:".Length..].Trim());
            }
        }

        // struct tcp_info (linux/tcp.h): tcpi_data_segs_in is the u32 at byte 152 (kernel 4.6 and later).
        var info = new byte[256];
        var length = client.Client.GetRawSocketOption(6 /* IPPROTO_TCP */, 11 /* TCP_INFO */, info);
        Assert.True(length >= 156, $"TCP_INFO too short ({length} bytes) to hold tcpi_data_segs_in.");
        var dataSegments = BitConverter.ToInt32(info, 152);

        const string answer = """{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}""";
        var reply = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(answer)}\r\nConnection: close\r\n\r\n{answer}";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(reply));
        return (Encoding.UTF8.GetString(buffer, 0, total), dataSegments);
    }
}
