using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LlmSimulator;

/// <summary>A simulated LLM upstream on a real Kestrel listener, for integration and load tests.</summary>
public sealed class SimulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SimulatorState _state;
    private readonly RequestRecorder _recorder;

    private SimulatorServer(WebApplication app, SimulatorState state, RequestRecorder recorder, Uri baseAddress)
    {
        _app = app;
        _state = state;
        _recorder = recorder;
        BaseAddress = baseAddress;
    }

    /// <summary>The address actually bound, with a trailing slash, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The live options; changes apply to the next request.</summary>
    public SimulatorOptions Options => _state.Options;

    /// <summary>Instance-level fault injection.</summary>
    public FaultPlan Faults => _state.Faults;

    /// <summary>A snapshot copy of the recorded requests, oldest first.</summary>
    public IReadOnlyList<ReceivedRequest> ReceivedRequests => _recorder.Snapshot();

    /// <summary>
    /// Requests whose client went away (<c>RequestAborted</c>) before the simulator finished answering them —
    /// e.g. a gateway that cancelled its upstream call when its own client disconnected. Faults the simulator
    /// injects itself (<c>reset</c>, <c>reset_mid_stream</c>) are not counted.
    /// </summary>
    public int AbortedRequestCount => _state.AbortedRequests;

    /// <summary>Streamed answers written to the end (terminating event flushed).</summary>
    public int CompletedStreamCount => _state.CompletedStreams;

    /// <summary>
    /// Starts Kestrel on <paramref name="url"/> (port 0 picks a free port) and returns once it is listening.
    /// Use an IP literal with port 0: Kestrel cannot bind "localhost:0".
    /// </summary>
    /// <param name="http2Only">Listen for HTTP/2 only (cleartext: prior knowledge, h2c), as an upstream that speaks only HTTP/2.</param>
    public static async Task<SimulatorServer> StartAsync(SimulatorOptions? options = null, string url = "http://127.0.0.1:0", bool http2Only = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        var recorder = new RequestRecorder();
        var state = new SimulatorState(options ?? new SimulatorOptions(), new FaultPlan(), recorder);

        // The empty builder has no logging providers and no config sources: nothing per request but Kestrel and routing.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (http2Only)
            {
                kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
            }
        });
        builder.WebHost.UseUrls(url);
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        app.MapLlmSimulator(state);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        // After start Kestrel reports the bound address, including the port it picked for port 0.
        string? bound = null;
        foreach (var address in app.Urls)
        {
            bound = address;
            break;
        }

        if (bound is null)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"Kestrel reported no address for '{url}'.");
        }

        return new SimulatorServer(app, state, recorder, new Uri(bound.TrimEnd('/') + "/"));
    }

    /// <summary>Forgets every recorded request.</summary>
    public void ClearReceived() => _recorder.Clear();

    /// <summary>Stops the listener and releases the host.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
