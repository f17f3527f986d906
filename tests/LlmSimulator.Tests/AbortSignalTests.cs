namespace LlmSimulator.Tests;

public sealed class AbortSignalTests
{
    private const string SlowStream = """
        {"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],"simulator":{"chunks":5,"chunk_delay_ms":300}}
        """;

    [Fact]
    public async Task A_client_that_leaves_mid_stream_is_counted_as_aborted_not_completed()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        // No draining of the unread rest: disposing the response closes the connection, as a client that leaves does.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = sim.Server.BaseAddress };

        using (var response = await client.SendAsync(Http.Post("v1/chat/completions", SlowStream), HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
        }

        // The simulator notices on its next delay or flush.
        await Eventually.TrueAsync(() => sim.Server.AbortedRequestCount == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, sim.Server.CompletedStreamCount);
    }

    [Fact]
    public async Task A_stream_read_to_the_end_is_counted_as_completed_not_aborted()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", SlowStream.Replace("300", "1", StringComparison.Ordinal)));
        var body = await response.Content.ReadAsStringAsync();

        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        // The count follows the final flush, which the client may see first.
        await Eventually.TrueAsync(() => sim.Server.CompletedStreamCount == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, sim.Server.AbortedRequestCount);
    }
}

internal static class Eventually
{
    /// <summary>Waits until <paramref name="condition"/> holds (a state change on another thread), failing after <paramref name="timeout"/>.</summary>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not become true in time.");
            await Task.Delay(20);
        }
    }
}
