using System.Net;
using System.Text;
using AiGateway.IntegrationTests.Infrastructure;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Security;

/// <summary>
/// Attacks on the real gateway over a raw socket: request smuggling, oversized and hop-by-hop headers, path tricks
/// toward upstream paths, a client choosing the upstream host or key, hostile bodies. Every case: a clean 4xx (never
/// a 500) or a request forwarded exactly as policy allows, and the gateway keeps serving.
/// </summary>
public sealed class RawHttpAttackTests : IAsyncLifetime
{
    private const string Body = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";
    private SecretFile _key = null!;
    private SimulatorServer _simulator = null!;
    private GatewayScenario _scenario = null!;

    private Uri Gateway => _scenario.Gateway.BaseAddress;

    private string Authority => $"{Gateway.Host}:{Gateway.Port}";

    public async Task InitializeAsync()
    {
        _key = new SecretFile("sk-provider-" + Guid.NewGuid().ToString("N"));
        _simulator = await SimulatorServer.StartAsync(new SimulatorOptions { RequiredApiKey = _key.Secret });
        _scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("p", "openai", _simulator.BaseAddress, _key.Path) + "," + UpstreamJson.Provider("az", "azure-openai", _simulator.BaseAddress, _key.Path, "2024-10-21"),
            UpstreamJson.Model("gpt-4o-mini", """{ "provider": "p" }""") + "," + UpstreamJson.Model("azm", """{ "provider": "az", "deployment": "fixed-deployment" }""")));
    }

    public async Task DisposeAsync()
    {
        await _scenario.DisposeAsync();
        await _simulator.DisposeAsync();
        _key.Dispose();
    }

    private string Head(string requestLine, params string[] headers) =>
        requestLine + "\r\n" + string.Concat(headers.Select(h => h + "\r\n")) + "\r\n";

    private string Auth => "Authorization: Bearer " + _scenario.Token;

    private async Task AssertStillServingAsync()
    {
        using var response = await _scenario.PostAsync("v1/chat/completions", Body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string[], string> SmugglingAttempts() => new()
    {
        // name, framing headers, body bytes
        { "two different CL", [$"Content-Length: {Body.Length}", "Content-Length: 5"], Body },
        { "CL list", [$"Content-Length: {Body.Length}, 5"], Body },
        { "TE not ending in chunked", ["Transfer-Encoding: chunked, identity"], Body },
        { "TE unknown coding", ["Transfer-Encoding: xchunked"], Body },
        { "TE with obs-fold", ["Transfer-Encoding:", " chunked"], $"{Body.Length:x}\r\n{Body}\r\n0\r\n\r\n" },
        { "space before colon", ["Transfer-Encoding : chunked", $"Content-Length: {Body.Length}"], Body },
        { "negative CL", ["Content-Length: -1"], Body },
        { "bad chunk size", ["Transfer-Encoding: chunked"], $"zz\r\n{Body}\r\n0\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(SmugglingAttempts))]
    public async Task Request_smuggling_framing_is_a_400_and_nothing_is_forwarded(string name, string[] framing, string body)
    {
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head("POST /v1/chat/completions HTTP/1.1", [$"Host: {Authority}", Auth, "Content-Type: application/json", .. framing, "Connection: close"]), body);

        Assert.True(response.Status == 400, $"{name}: {response.Status} {response.BodyText}");
        Assert.Equal(before, _simulator.ReceivedRequests.Count);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("Content-Length: 4", "Transfer-Encoding: chunked")]
    [InlineData("Transfer-Encoding: chunked", "Content-Length: 500")]
    public async Task Content_length_with_transfer_encoding_is_framed_by_transfer_encoding_alone_and_the_connection_is_closed(string first, string second)
    {
        // RFC 9112 §6.1: a server may reject such a request or process it by Transfer-Encoding alone, and must then close
        // the connection. Kestrel does the latter (it drops Content-Length before the gateway sees the request), so what the
        // test proves is the smuggling outcome: the upstream gets the one body re-framed, and the bytes after it never
        // become a second request.
        var smuggled = $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n{Auth}\r\nContent-Length: {Body.Length}\r\n\r\n{Body}";
        var body = $"{Body.Length:x}\r\n{Body}\r\n0\r\n\r\n{smuggled}";
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head("POST /v1/chat/completions HTTP/1.1", $"Host: {Authority}", Auth, "Content-Type: application/json", first, second), body);

        Assert.True(response.Status is 200 or 400, $"{response.Status} {response.BodyText}");
        Assert.Contains("Connection: close", response.Head, StringComparison.OrdinalIgnoreCase);
        var received = _simulator.ReceivedRequests.Skip(before).ToList();
        Assert.True(received.Count <= 1, $"{received.Count} upstream requests: the smuggled request was processed");
        Assert.All(received, r => Assert.Equal(Body, Encoding.UTF8.GetString(r.Body)));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_request_hidden_after_a_chunked_body_is_not_forwarded_as_part_of_it()
    {
        var smuggled = "GET /admin/v1/usage HTTP/1.1\r\nHost: x\r\n\r\n";
        var body = $"{Body.Length:x}\r\n{Body}\r\n0\r\n\r\n{smuggled}";
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head("POST /v1/chat/completions HTTP/1.1", $"Host: {Authority}", Auth, "Content-Type: application/json", "Transfer-Encoding: chunked"), body);

        Assert.Equal(200, response.Status);
        var received = _simulator.ReceivedRequests.Skip(before).ToList();
        var forwarded = Assert.Single(received);
        Assert.Equal("/v1/chat/completions", forwarded.Path);
        Assert.DoesNotContain("admin", Encoding.UTF8.GetString(forwarded.Body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64 * 1024, 1)]
    [InlineData(100, 500)]
    public async Task Oversized_headers_get_431_and_nothing_is_forwarded(int valueLength, int count)
    {
        var headers = Enumerable.Range(0, count).Select(i => $"X-Big-{i}: {new string('a', valueLength)}").ToArray();
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head("POST /v1/chat/completions HTTP/1.1", [$"Host: {Authority}", Auth, "Content-Type: application/json", $"Content-Length: {Body.Length}", .. headers, "Connection: close"]), Body);

        Assert.Equal(431, response.Status);
        Assert.Equal(before, _simulator.ReceivedRequests.Count);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Oversized_request_line_gets_414_and_nothing_is_forwarded()
    {
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head($"POST /v1/chat/completions?{new string('q', 20_000)} HTTP/1.1", $"Host: {Authority}", Auth, $"Content-Length: {Body.Length}", "Connection: close"), Body);
        Assert.Equal(414, response.Status);
        Assert.Equal(before, _simulator.ReceivedRequests.Count);
    }

    [Theory]
    [InlineData("Connection: close, Authorization")]
    [InlineData("Connection: close, api-key, x-api-key, authorization")]
    [InlineData("Connection: close, X-Forwarded-For, X-Forwarded-Host, Host")]
    [InlineData("Connection: Upgrade, HTTP2-Settings, close")]
    public async Task Hop_by_hop_header_abuse_cannot_strip_the_provider_key_or_smuggle_headers(string connection)
    {
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head("POST /v1/chat/completions HTTP/1.1",
            $"Host: {Authority}", Auth, "Content-Type: application/json", $"Content-Length: {Body.Length}", connection,
            "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__", "api-key: client-injected", "x-api-key: client-injected", "Keep-Alive: timeout=999", "TE: trailers"), Body);

        Assert.Equal(200, response.Status);
        var forwarded = Assert.Single(_simulator.ReceivedRequests.Skip(before));
        Assert.Equal("Bearer " + _key.Secret, forwarded.Headers["Authorization"]);
        foreach (var header in new[] { "api-key", "x-api-key", "Upgrade", "HTTP2-Settings", "Keep-Alive", "X-Forwarded-Host", "X-Forwarded-For" })
        {
            Assert.False(forwarded.Headers.ContainsKey(header), $"{header} reached the upstream");
        }

        Assert.DoesNotContain(forwarded.Headers.Values, v => v.Contains("client-injected", StringComparison.Ordinal) || v.Contains(_scenario.Token, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/v1/chat/completions/../../../admin/v1/usage")]
    [InlineData("/v1/chat/completions/..%2f..%2f..%2fetc%2fpasswd")]
    [InlineData("/v1/%2e%2e/%2e%2e/v1/chat/completions")]
    [InlineData("/v1/chat/%2e%2e/chat/completions")]
    [InlineData("/v1/chat/completions%2f..%2f..%2fadmin")]
    [InlineData("/v1/chat/completions/..;/x")]
    [InlineData("/v1//chat/completions")]
    [InlineData("/v1/chat/completions?api-version=../../x&x=%0d%0aHost:%20evil")]
    [InlineData("/./v1/./chat/completions")]
    [InlineData("/v1/chat/completions%00.json")]
    [InlineData("/V1/CHAT/COMPLETIONS")]
    public async Task Path_tricks_reach_only_the_providers_fixed_path(string target)
    {
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head($"POST {target} HTTP/1.1", $"Host: {Authority}", Auth, "Content-Type: application/json", $"Content-Length: {Body.Length}", "Connection: close"), Body);

        Assert.NotEqual(500, response.Status);
        Assert.True(response.Status is 200 or (>= 400 and < 500), $"{target}: {response.Status}");
        foreach (var forwarded in _simulator.ReceivedRequests.Skip(before))
        {
            Assert.Equal("/v1/chat/completions", forwarded.Path);
            Assert.Equal(string.Empty, forwarded.QueryString);
        }

        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("/openai/deployments/..%2f..%2fadmin/chat/completions?api-version=2024-10-21")]
    [InlineData("/openai/deployments/azm%2f..%2f..%2fx/chat/completions?api-version=2024-10-21")]
    [InlineData("/openai/deployments/azm/chat/completions?api-version=2024-10-21&api-version=../../x")]
    [InlineData("/openai/deployments/azm/chat/completions?api-version=1%0d%0aX-Injected:%201")]
    public async Task Azure_path_tricks_reach_only_the_configured_deployment_path(string target)
    {
        const string AzureBody = """{"messages":[{"role":"user","content":"hi"}]}""";
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head($"POST {target} HTTP/1.1", $"Host: {Authority}", Auth, "Content-Type: application/json", $"Content-Length: {AzureBody.Length}", "Connection: close"), AzureBody);

        Assert.True(response.Status is 200 or (>= 400 and < 500), $"{target}: {response.Status} {response.BodyText}");
        foreach (var forwarded in _simulator.ReceivedRequests.Skip(before))
        {
            Assert.Equal("/openai/deployments/fixed-deployment/chat/completions", forwarded.Path);
            Assert.Equal("?api-version=2024-10-21", forwarded.QueryString);
            Assert.False(forwarded.Headers.ContainsKey("X-Injected"));
        }
    }

    [Theory]
    [InlineData("POST http://evil.example/v1/chat/completions HTTP/1.1", "Host: evil.example")]
    [InlineData("POST /v1/chat/completions HTTP/1.1", "Host: evil.example")]
    [InlineData("POST /v1/chat/completions HTTP/1.1", "X-Forwarded-Host: evil.example")]
    [InlineData("POST /v1/chat/completions HTTP/1.1", "Forwarded: host=evil.example;proto=https")]
    [InlineData("POST /v1/chat/completions HTTP/1.1", "X-Original-URL: /admin")]
    public async Task Client_cannot_choose_the_upstream_host(string requestLine, string hostHeader)
    {
        var before = _simulator.ReceivedRequests.Count;
        var host = hostHeader.StartsWith("Host:", StringComparison.Ordinal) ? hostHeader : $"Host: {Authority}";
        var extra = hostHeader.StartsWith("Host:", StringComparison.Ordinal) ? [] : new[] { hostHeader };
        var response = await RawHttp.SendAsync(Gateway, Head(requestLine, [host, .. extra, Auth, "Content-Type: application/json", $"Content-Length: {Body.Length}", "Connection: close"]), Body);

        Assert.True(response.Status is 200 or 400, $"{response.Status} {response.BodyText}");
        foreach (var forwarded in _simulator.ReceivedRequests.Skip(before))
        {
            Assert.Equal(_simulator.BaseAddress.Authority, forwarded.Headers["Host"]);
            Assert.Equal("/v1/chat/completions", forwarded.Path);
            Assert.DoesNotContain(forwarded.Headers, h => h.Key.StartsWith("X-Forwarded", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Forwarded", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("X-Original-URL", StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(forwarded.Headers.Values, v => v.Contains("evil", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Client_supplied_api_key_headers_never_replace_the_azure_provider_key()
    {
        const string AzureBody = """{"model":"azm","messages":[{"role":"user","content":"hi"}]}""";
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Head("POST /v1/chat/completions HTTP/1.1",
            $"Host: {Authority}", Auth, "api-key: attacker-1", "Api-Key: attacker-2", "API-KEY : attacker-3", "api-key:attacker-4 ", "Content-Type: application/json", $"Content-Length: {AzureBody.Length}", "Connection: close"), AzureBody);

        Assert.True(response.Status is 200 or 400, $"{response.Status} {response.BodyText}");
        foreach (var forwarded in _simulator.ReceivedRequests.Skip(before))
        {
            Assert.Equal(_key.Secret, forwarded.Headers["api-key"]);
            Assert.DoesNotContain(forwarded.Headers.Values, v => v.Contains("attacker", StringComparison.Ordinal));
        }
    }

    public static TheoryData<string, int[]> HostileBodies()
    {
        var many = new StringBuilder("{\"model\":\"gpt-4o-mini\",\"messages\":[");
        for (var i = 0; i < 10_000; i++)
        {
            many.Append(i == 0 ? "" : ",").Append("{\"role\":\"user\",\"content\":\"m").Append(i).Append("\"}");
        }

        many.Append("]}");
        return new()
        {
            { "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"n\":" + new string('[', 100_000) + new string(']', 100_000) + "}]}", [400] },
            { many.ToString(), [200] },
            { "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('A', 1_000_000) + "\"}]}", [200] },
            { "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"" + string.Concat(Enumerable.Repeat("\\ud800", 50_000)) + "\"}]}", [200, 400] },
            { "{\"model\":\"gpt-4o-mini\",\"model\":\"secure-llm\",\"messages\":[]}", [400, 403, 404] },
            { "[]", [400] },
            { "", [400] },
        };
    }

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task Hostile_bodies_get_a_clean_answer_never_a_500(string body, int[] expected)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var response = await RawHttp.SendAsync(Gateway, Encoding.ASCII.GetBytes(Head("POST /v1/chat/completions HTTP/1.1", $"Host: {Authority}", Auth, "Content-Type: application/json", $"Content-Length: {bytes.Length}", "Connection: close")), bytes);

        Assert.Contains(response.Status, expected);
        if (response.Status >= 400)
        {
            Assert.Contains("\"error\"", response.BodyText, StringComparison.Ordinal);
        }

        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Invalid_utf8_in_the_body_is_a_400_and_nothing_is_forwarded()
    {
        byte[] body = [.. "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"con"u8, 0xC0, 0xAF, .. "tent\":\"x\"}]}"u8];
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, Encoding.ASCII.GetBytes(Head("POST /v1/chat/completions HTTP/1.1", $"Host: {Authority}", Auth, "Content-Type: application/json", $"Content-Length: {body.Length}", "Connection: close")), body);

        Assert.Equal(400, response.Status);
        Assert.Equal(before, _simulator.ReceivedRequests.Count);
    }

    [Theory]
    [InlineData("Authorization: Bearer x\u00ffy")]
    [InlineData("X-Test: a\u0000b")]
    [InlineData("Bad Header Name: x")]
    public async Task Invalid_header_bytes_are_a_400(string header)
    {
        var head = Encoding.Latin1.GetBytes(Head("POST /v1/chat/completions HTTP/1.1", $"Host: {Authority}", header, $"Content-Length: {Body.Length}", "Connection: close"));
        var before = _simulator.ReceivedRequests.Count;
        var response = await RawHttp.SendAsync(Gateway, head, Encoding.UTF8.GetBytes(Body));
        Assert.True(response.Status is 400 or 401, $"{response.Status}");
        Assert.Equal(before, _simulator.ReceivedRequests.Count);
    }
}
