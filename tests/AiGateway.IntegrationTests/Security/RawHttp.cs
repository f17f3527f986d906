using System.Net.Sockets;
using System.Text;

namespace AiGateway.IntegrationTests.Security;

/// <summary>
/// Bytes on a TCP socket to the gateway, for requests HttpClient would refuse or normalise (conflicting framing,
/// absolute-form targets, dot segments, raw invalid UTF-8). Reads until the server closes or the answer is complete.
/// </summary>
internal static class RawHttp
{
    internal sealed record RawResponse(int Status, string Head, byte[] Body)
    {
        public string BodyText => Encoding.UTF8.GetString(Body);
    }

    public static Task<RawResponse> SendAsync(Uri server, string head, string body = "") =>
        SendAsync(server, Encoding.ASCII.GetBytes(head), Encoding.UTF8.GetBytes(body));

    /// <summary>Sends <paramref name="head"/> (request line and headers, ending with an empty line) then <paramref name="body"/>.</summary>
    public static async Task<RawResponse> SendAsync(Uri server, byte[] head, byte[] body)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cts.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(head, cts.Token);
        try
        {
            await stream.WriteAsync(body, cts.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before reading a body it rejected.
        }

        var received = new MemoryStream();
        var buffer = new byte[16384];
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, cts.Token);
            }
            catch (IOException)
            {
                break; // reset after the answer
            }

            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
            if (IsComplete(received.ToArray()))
            {
                break;
            }
        }

        return Parse(received.ToArray());
    }

    private static bool IsComplete(byte[] data)
    {
        var text = Encoding.Latin1.GetString(data);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var head = text[..end];
        var bodyLength = data.Length - end - 4;
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return bodyLength >= int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) && text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal);
    }

    private static RawResponse Parse(byte[] data)
    {
        var text = Encoding.Latin1.GetString(data);
        Assert.True(text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal), "no HTTP answer: " + text);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = end < 0 ? text : text[..end];
        var status = int.Parse(text.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
        var body = end < 0 ? [] : data[(end + 4)..];
        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }

        return new RawResponse(status, head, body);
    }

    private static byte[] Dechunk(byte[] body)
    {
        var output = new MemoryStream();
        var at = 0;
        while (at < body.Length)
        {
            var lineEnd = Array.IndexOf(body, (byte)'\n', at);
            if (lineEnd < 0)
            {
                break;
            }

            var size = Convert.ToInt32(Encoding.ASCII.GetString(body, at, lineEnd - at).Trim().Split(';')[0], 16);
            if (size == 0)
            {
                break;
            }

            output.Write(body, lineEnd + 1, Math.Min(size, body.Length - lineEnd - 1));
            at = lineEnd + 1 + size + 2;
        }

        return output.ToArray();
    }
}
