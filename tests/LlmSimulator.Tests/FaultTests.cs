using System.Diagnostics;
using System.Net;
using System.Text;

namespace LlmSimulator.Tests;

public sealed class FaultTests
{
    private const string Chat = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task FailNext_answers_the_status_then_recovers()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        sim.Server.Faults.FailNext(2, 429, retryAfterSeconds: 7);

        using var first = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat));
        using var second = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat));
        using var third = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat));

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), first.Headers.RetryAfter?.Delta);
        var error = (await Http.JsonAsync(first)).GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("requests", error.GetProperty("type").GetString());
        // Faulted attempts are recorded too, so tests can count retries.
        Assert.Equal(3, sim.Server.ReceivedRequests.Count);
    }

    [Fact]
    public async Task FailNext_uses_the_anthropic_error_shape_on_messages()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        sim.Server.Faults.FailNext(1, 503);

        using var response = await sim.Client.SendAsync(Http.Post("v1/messages", Chat, ("anthropic-version", "2023-06-01")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var json = await Http.JsonAsync(response);
        Assert.Equal("error", json.GetProperty("type").GetString());
        Assert.Equal("api_error", json.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task FailAlways_lasts_until_cleared()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        sim.Server.Faults.FailAlways(500);

        for (var i = 0; i < 3; i++)
        {
            using var failed = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat));
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Equal("server_error", (await Http.JsonAsync(failed)).GetProperty("error").GetProperty("code").GetString());
        }

        sim.Server.Faults.Clear();
        using var ok = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Instance_faults_take_precedence_over_directives()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        sim.Server.Faults.FailNext(1, 502);

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat, ("x-sim-status", "429")));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task ResetNext_aborts_the_connection_then_recovers()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        sim.Server.Faults.ResetNext(1);

        await Assert.ThrowsAsync<HttpRequestException>(() => sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat)));
        using var ok = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(2, sim.Server.ReceivedRequests.Count);
    }

    [Fact]
    public async Task DelayNext_holds_the_headers_back()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        sim.Server.Faults.DelayNext(1, 300);

        var delayed = Stopwatch.StartNew();
        using var first = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat), HttpCompletionOption.ResponseHeadersRead);
        delayed.Stop();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(delayed.ElapsedMilliseconds >= 280, $"took {delayed.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Delayed_request_is_abandoned_when_the_client_gives_up()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        sim.Server.Faults.DelayNext(1, 60_000);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat), cts.Token));

        // The server keeps serving; the abandoned delay does not hold it up.
        using var ok = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Theory]
    [InlineData("v1/chat/completions", 429, "rate_limit_exceeded")]
    [InlineData("v1/chat/completions", 401, "invalid_api_key")]
    [InlineData("v1/messages", 429, "rate_limit_error")]
    [InlineData("v1/messages", 529, "overloaded_error")]
    public async Task Status_directive_answers_with_the_dialect_error(string path, int status, string errorName)
    {
        await using var sim = await SimulatorHarness.StartAsync();
        var body = $$$"""{"model":"m","messages":[],"simulator":{"status":{{{status}}},"retry_after":2}}""";

        using var response = await sim.Client.SendAsync(Http.Post(path, body, ("anthropic-version", "2023-06-01")));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
        Assert.Contains(errorName, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reset_directive_aborts_before_any_byte()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => sim.Client.SendAsync(Http.Post("v1/chat/completions", """{"model":"m","simulator":{"fault":"reset"}}""")));
        await Assert.ThrowsAsync<HttpRequestException>(() => sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat, ("x-sim-fault", "reset"))));
    }

    [Fact]
    public async Task Reset_mid_stream_sends_half_the_chunks_then_aborts()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        const string body = """{"model":"m","stream":true,"messages":[],"simulator":{"fault":"reset_mid_stream","chunks":4}}""";

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", body), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var received = new StringBuilder();
        var buffer = new byte[4096];
        var failure = await Record.ExceptionAsync(async () =>
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        });

        Assert.IsAssignableFrom<IOException>(failure);
        var events = Sse.Parse(received.ToString());
        Assert.Equal(2, events.Count);
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
    }

    [Fact]
    public async Task Garbage_sse_sends_unparseable_data_lines()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", """{"model":"m","stream":true,"simulator":{"fault":"garbage_sse"}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        Assert.NotEmpty(events);
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
        Assert.Contains(events, e => !IsJson(e.Data));
    }

    [Fact]
    public async Task Delay_directive_waits_before_headers()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        var watch = Stopwatch.StartNew();
        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", Chat, ("x-sim-delay-ms", "250")), HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(watch.ElapsedMilliseconds >= 230, $"took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void FaultPlan_rejects_non_error_statuses()
    {
        var plan = new FaultPlan();

        Assert.Throws<ArgumentOutOfRangeException>(() => plan.FailNext(1, 200));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.FailAlways(600));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.ResetNext(-1));
    }

    private static bool IsJson(string data)
    {
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(data);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
