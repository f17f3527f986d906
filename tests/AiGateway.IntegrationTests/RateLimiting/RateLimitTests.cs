using System.Net;
using System.Text;
using System.Text.Json;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.RateLimiting;
using AiGateway.Tests.Common;
using LlmSimulator;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.IntegrationTests.RateLimiting;

/// <summary>Limits through the real gateway, with a real redis-server shared by two gateway instances (issue #5).</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private SimulatorServer _simulator = null!;
    private TestOidcIssuer _issuer = null!;
    private RedisServer _redis = null!;

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorServer.StartAsync(new SimulatorOptions { RecordRequests = false });
        _issuer = await TestOidcIssuer.StartAsync();
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _issuer.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private Task<TestGateway> StartGatewayAsync(string limits, bool redis = true) =>
        TestGateway.StartAsync(
            ConfigJson.Gateway(_simulator.BaseAddress, extraTopLevel: redis
                ? $$"""
                   "limitStore": { "type": "redis", "redis": {{ConfigJson.Quote(_redis.ConnectionString)}}, "timeoutMilliseconds": 2000, "breakSeconds": 1 },
                  """
                : string.Empty),
            new Dictionary<string, string> { ["alpha"] = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(_issuer.Issuer), extra: ",\n  \"limits\": " + limits) });

    private static HttpRequestMessage Chat(bool stream = false, int maxTokens = 50, string extra = "") =>
        new(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"gpt-4o-mini","max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Count to three."}]{{extra}}}""",
                Encoding.UTF8,
                "application/json"),
        };

    [Fact]
    public async Task Two_gateway_hosts_on_one_redis_admit_exactly_the_request_limit()
    {
        const int Limit = 12;
        var limits = $$"""{ "perCaller": { "requestsPerMinute": {{Limit}} } }""";
        await using var first = await StartGatewayAsync(limits);
        await using var second = await StartGatewayAsync(limits);
        var token = _issuer.Token().Roles("analyst").Build();
        using var a = first.CreateClient(token);
        using var b = second.CreateClient(token);

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => (i % 2 == 0 ? a : b).SendAsync(Chat())));

        Assert.Equal(Limit, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(30 - Limit, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        var refused = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("requests per minute", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_gateway_processes_on_one_redis_admit_exactly_the_request_limit()
    {
        const int Limit = 10;
        var root = Path.Combine(Path.GetTempPath(), "aigw-procs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "config", "agencies"));
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "config", "gateway.json"), ConfigJson.Gateway(_simulator.BaseAddress, extraTopLevel: $$"""
                 "limitStore": { "type": "redis", "redis": {{ConfigJson.Quote(_redis.ConnectionString)}}, "timeoutMilliseconds": 5000 },
                """));
            await File.WriteAllTextAsync(Path.Combine(root, "config", "agencies", "alpha.json"), ConfigJson.Agency("alpha", ConfigJson.OidcProvider(_issuer.Issuer), extra: $$"""
                ,
                  "limits": { "perCaller": { "requestsPerMinute": {{Limit}} } }
                """));
            await using var first = await GatewayProcess.StartAsync(Path.Combine(root, "config"), Path.Combine(root, "data1"));
            await using var second = await GatewayProcess.StartAsync(Path.Combine(root, "config"), Path.Combine(root, "data2"));
            var token = _issuer.Token().Roles("analyst").Build();
            using var a = first.CreateClient(token);
            using var b = second.CreateClient(token);

            var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => (i % 2 == 0 ? a : b).SendAsync(Chat())));

            Assert.Equal(Limit, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
            Assert.Equal(24 - Limit, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
            // Each process answered half the requests: without the shared counter each would have admitted 10 on its own.
            Assert.Equal(12, responses.Count(r => r.RequestMessage!.RequestUri!.Port == first.BaseAddress.Port));
            Assert.Equal(12, responses.Count(r => r.RequestMessage!.RequestUri!.Port == second.BaseAddress.Port));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Token_limit_across_two_gateways_is_not_overshot_by_more_than_one_request()
    {
        // Each request reserves its prompt plus max_tokens (≈ 20 + 200) and is reconciled to its real usage (≈ 60).
        const int TokenLimit = 1000;
        var limits = $$"""{ "perCaller": { "tokensPerMinute": {{TokenLimit}} } }""";
        await using var first = await StartGatewayAsync(limits);
        await using var second = await StartGatewayAsync(limits);
        var subject = Guid.NewGuid().ToString();
        var token = _issuer.Token().Subject(subject).Roles("analyst").Build();
        using var a = first.CreateClient(token);
        using var b = second.CreateClient(token);

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? a : b).SendAsync(Chat(maxTokens: 200))));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, r.StatusCode.ToString()));
        var oneRequest = JsonDocument.Parse(await responses.First(r => r.StatusCode == HttpStatusCode.OK).Content.ReadAsStringAsync())
            .RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt64();
        var expected = responses.Count(r => r.StatusCode == HttpStatusCode.OK) * oneRequest;

        // Reconciliation is sent after each answer without waiting (fire-and-forget): read until it has landed.
        var store = first.App.Services.GetRequiredService<ILimitStore>();
        var scope = new LimitScope($"aigw:{{alpha}}:caller:{subject}", "caller", LimitSet.Unlimited);
        long window = 0;
        for (var i = 0; i < 100 && window != expected; i++)
        {
            window = (await store.ReadAsync([scope], CancellationToken.None))[0].TokensLastMinute;
            if (window != expected)
            {
                await Task.Delay(50);
            }
        }

        // Everything admitted within the minute, counted at its real usage, stays within the limit plus one request.
        Assert.Equal(expected, window);
        Assert.InRange(window, 1, TokenLimit + 220);
    }

    [Fact]
    public async Task Small_token_limit_still_admits_its_first_request()
    {
        await using var gateway = await StartGatewayAsync("""{ "perCaller": { "tokensPerMinute": 100 } }""");
        using var client = gateway.CreateClient(_issuer.Token().Roles("analyst").Build());

        using var first = await client.SendAsync(Chat(maxTokens: 4096));
        using var second = await client.SendAsync(Chat(maxTokens: 4096));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
    }

    [Fact]
    public async Task Ratelimit_headers_are_on_every_response()
    {
        await using var gateway = await StartGatewayAsync("""{ "perCaller": { "requestsPerMinute": 5, "tokensPerMinute": 100000 } }""");
        using var client = gateway.CreateClient(_issuer.Token().Roles("analyst").Build());

        using var first = await client.SendAsync(Chat());
        using var second = await client.SendAsync(Chat());

        Assert.Equal("5", Header(first, "x-ratelimit-limit-requests"));
        Assert.Equal("4", Header(first, "x-ratelimit-remaining-requests"));
        Assert.Equal("3", Header(second, "x-ratelimit-remaining-requests"));
        Assert.Equal("100000", Header(first, "x-ratelimit-limit-tokens"));
        Assert.True(long.Parse(Header(second, "x-ratelimit-remaining-tokens")!, System.Globalization.CultureInfo.InvariantCulture) < 100000);
        Assert.EndsWith("s", Header(first, "x-ratelimit-reset-requests"), StringComparison.Ordinal);
        Assert.NotNull(Header(first, "x-ratelimit-reset-tokens"));
    }

    [Fact]
    public async Task Usage_is_reconciled_with_what_the_provider_reported()
    {
        await using var gateway = await StartGatewayAsync("""{ "perCaller": { "tokensPerDay": 1000000 }, "adminRoles": ["engineer"] }""");
        var subject = Guid.NewGuid().ToString();
        using var client = gateway.CreateClient(_issuer.Token().Subject(subject).Roles("analyst").Build());

        using var plain = await client.SendAsync(Chat());
        var plainUsage = JsonDocument.Parse(await plain.Content.ReadAsStringAsync()).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt64();
        using var streamed = await client.SendAsync(Chat(stream: true), HttpCompletionOption.ResponseHeadersRead);
        var streamText = await streamed.Content.ReadAsStringAsync();

        // The client did not ask for stream usage: it gets no usage chunk, though the gateway obtained it.
        Assert.DoesNotContain("\"usage\":{", streamText, StringComparison.Ordinal);
        // The simulator reports the same usage for the same request, streamed or not.
        Assert.Equal(plainUsage * 2, await TokensTodayAsync(gateway, subject, expected: plainUsage * 2));
    }

    [Fact]
    public async Task Stream_usage_chunk_is_kept_when_the_client_asked_for_it()
    {
        await using var gateway = await StartGatewayAsync("""{ "perCaller": { "tokensPerDay": 1000000 } }""");
        var subject = Guid.NewGuid().ToString();
        using var client = gateway.CreateClient(_issuer.Token().Subject(subject).Roles("analyst").Build());

        using var streamed = await client.SendAsync(Chat(stream: true, extra: ""","stream_options":{"include_usage":true}"""), HttpCompletionOption.ResponseHeadersRead);
        var text = await streamed.Content.ReadAsStringAsync();

        var usageLine = text.Split("\n\n").Single(e => e.Contains("\"usage\":{", StringComparison.Ordinal));
        var total = JsonDocument.Parse(usageLine["data: ".Length..]).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt64();
        Assert.Equal(total, await TokensTodayAsync(gateway, subject, expected: total));
    }

    [Fact]
    public async Task Disconnected_stream_is_charged_for_what_was_sent()
    {
        await using var gateway = await StartGatewayAsync("""{ "perCaller": { "tokensPerDay": 1000000 } }""");
        var subject = Guid.NewGuid().ToString();
        using var client = gateway.CreateClient(_issuer.Token().Subject(subject).Roles("analyst").Build());

        // 20 slow chunks; read the first few events then leave.
        using (var response = await client.SendAsync(Chat(stream: true, maxTokens: 3000, extra: ""","simulator":{"chunks":20,"chunk_delay_ms":200}"""), HttpCompletionOption.ResponseHeadersRead))
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[256];
            var read = 0;
            while (read < 600)
            {
                var n = await body.ReadAsync(buffer);
                Assert.True(n > 0);
                read += n;
            }
        }

        // The reservation (prompt + 3000) is replaced by prompt + the text that was sent, once the gateway notices.
        long recorded = 0;
        for (var i = 0; i < 100; i++)
        {
            recorded = await TokensTodayAsync(gateway, subject);
            if (recorded is > 0 and < 3000)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.InRange(recorded, 1, 2999);
    }

    [Fact]
    public async Task Redis_down_fail_closed_gives_503_and_recovers_when_it_returns()
    {
        await using var gateway = await StartGatewayAsync("""{ "perCaller": { "requestsPerMinute": 1000 }, "onStoreFailure": "fail-closed" }""");
        using var client = gateway.CreateClient(_issuer.Token().Roles("analyst").Build());
        using (var before = await client.SendAsync(Chat()))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await _redis.KillAsync();
        var started = DateTime.UtcNow;
        using (var during = await client.SendAsync(Chat()))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
            Assert.Contains("limits_unavailable", await during.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Requests while the circuit is open fail at once instead of waiting for Redis.
        using (var again = await client.SendAsync(Chat()))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
        }

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "a request hung on the dead store");

        await _redis.RestartAsync();
        var recovered = await EventuallyAsync(async () =>
        {
            using var r = await client.SendAsync(Chat());
            return r.StatusCode == HttpStatusCode.OK;
        });
        Assert.True(recovered);
    }

    [Fact]
    public async Task Redis_down_fail_open_serves_within_local_limits_and_recovers()
    {
        await using var gateway = await StartGatewayAsync("""{ "perCaller": { "requestsPerMinute": 8 }, "onStoreFailure": "fail-open", "failOpenShare": 0.5 }""");
        using var client = gateway.CreateClient(_issuer.Token().Roles("analyst").Build());
        await _redis.KillAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var r = await client.SendAsync(Chat());
            statuses.Add(r.StatusCode);
        }

        // Half of 8 per minute on this node while Redis is away.
        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.TooManyRequests));

        await _redis.RestartAsync();
        var backOnRedis = await EventuallyAsync(async () =>
        {
            using var r = await client.SendAsync(Chat());
            return r.StatusCode == HttpStatusCode.OK && Header(r, "x-ratelimit-limit-requests") == "8";
        });
        Assert.True(backOnRedis);
    }

    [Fact]
    public async Task Budget_exhaustion_is_distinguishable_from_rate_limiting()
    {
        await using var gateway = await StartGatewayAsync("""{ "perCaller": { "tokensPerDay": 10 } }""");
        using var client = gateway.CreateClient(_issuer.Token().Roles("analyst").Build());

        using var first = await client.SendAsync(Chat());
        using var second = await client.SendAsync(Chat());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        var error = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("budget_exhausted", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Role_limit_applies_per_caller_holding_the_role()
    {
        await using var gateway = await TestGateway.StartAsync(
            ConfigJson.Gateway(_simulator.BaseAddress),
            new Dictionary<string, string>
            {
                ["alpha"] = $$"""
                {
                  "name": "alpha", "models": ["*"],
                  "identity": { "providers": [ {{ConfigJson.OidcProvider(_issuer.Issuer)}} ] },
                  "roles": {
                    "analyst": { "models": ["gpt-4o-mini"], "limits": { "requestsPerMinute": 2 } },
                    "engineer": { "models": ["*"] }
                  }
                }
                """,
            });
        using var analyst = gateway.CreateClient(_issuer.Token().Roles("analyst").Build());
        using var otherAnalyst = gateway.CreateClient(_issuer.Token().Roles("analyst").Build());
        using var engineer = gateway.CreateClient(_issuer.Token().Roles("engineer").Build());

        var analystStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var r = await analyst.SendAsync(Chat());
            analystStatuses.Add(r.StatusCode);
        }

        using var other = await otherAnalyst.SendAsync(Chat());
        var engineerStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var r = await engineer.SendAsync(Chat());
            engineerStatuses.Add(r.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], analystStatuses);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.All(engineerStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First() : null;

    /// <summary>The caller's tokens today; with <paramref name="expected"/>, read until it is reached (reconciliation is not awaited), bounded.</summary>
    private static async Task<long> TokensTodayAsync(TestGateway gateway, string subject, long expected)
    {
        long value = 0;
        for (var i = 0; i < 100; i++)
        {
            value = await TokensTodayAsync(gateway, subject);
            if (value == expected)
            {
                break;
            }

            await Task.Delay(50);
        }

        return value;
    }

    private static async Task<long> TokensTodayAsync(TestGateway gateway, string subject)
    {
        var store = gateway.App.Services.GetRequiredService<ILimitStore>();
        var usage = await store.ReadAsync([new LimitScope($"aigw:{{alpha}}:caller:{subject}", "caller", LimitSet.Unlimited)], CancellationToken.None);
        return usage[0].TokensToday;
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }
}
