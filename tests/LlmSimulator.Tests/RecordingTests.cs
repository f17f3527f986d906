using System.Text;

namespace LlmSimulator.Tests;

public sealed class RecordingTests
{
    [Fact]
    public async Task Received_requests_keep_method_path_query_headers_and_body()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        const string body = """{"model":"m","messages":[]}""";
        using var request = Http.Post("openai/deployments/d1/chat/completions?api-version=2024-10-21", body, ("api-key", "k1"), ("x-trace", "a"));
        request.Headers.TryAddWithoutValidation("x-multi", ["one", "two"]);

        using var _ = await sim.Client.SendAsync(request);

        var received = Assert.Single(sim.Server.ReceivedRequests);
        Assert.Equal("POST", received.Method);
        Assert.Equal("/openai/deployments/d1/chat/completions", received.Path);
        Assert.Equal("?api-version=2024-10-21", received.QueryString);
        Assert.Equal("k1", received.Headers["API-KEY"]);
        Assert.Equal("a", received.Headers["x-trace"]);
        Assert.Equal("one, two", received.Headers["x-multi"]);
        Assert.Equal(body, Encoding.UTF8.GetString(received.Body));
    }

    [Fact]
    public async Task Recording_is_a_bounded_ring_oldest_first()
    {
        await using var sim = await SimulatorHarness.StartAsync(new SimulatorOptions { MaxRecordedRequests = 3 });

        for (var i = 0; i < 5; i++)
        {
            using var _ = await sim.Client.SendAsync(Http.Post("v1/chat/completions", $$"""{"model":"m{{i}}"}"""));
        }

        var received = sim.Server.ReceivedRequests;
        Assert.Equal(3, received.Count);
        Assert.Equal(["""{"model":"m2"}""", """{"model":"m3"}""", """{"model":"m4"}"""], received.Select(r => Encoding.UTF8.GetString(r.Body)));
    }

    [Fact]
    public async Task Snapshot_is_a_copy_and_clear_empties_the_log()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        using (await sim.Client.SendAsync(Http.Post("v1/chat/completions", """{"model":"m"}""")))
        {
        }

        var snapshot = sim.Server.ReceivedRequests;
        sim.Server.ClearReceived();

        Assert.Single(snapshot);
        Assert.Empty(sim.Server.ReceivedRequests);
    }

    [Fact]
    public async Task Nothing_is_recorded_when_recording_is_off()
    {
        await using var sim = await SimulatorHarness.StartAsync(new SimulatorOptions { RecordRequests = false });

        using var _ = await sim.Client.SendAsync(Http.Post("v1/chat/completions", """{"model":"m"}"""));

        Assert.Empty(sim.Server.ReceivedRequests);
    }

    [Fact]
    public async Task Base_address_is_the_bound_loopback_port()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        Assert.Equal("127.0.0.1", sim.Server.BaseAddress.Host);
        Assert.NotEqual(0, sim.Server.BaseAddress.Port);
        Assert.EndsWith("/", sim.Server.BaseAddress.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal("ok", await sim.Client.GetStringAsync("health"));
    }
}
