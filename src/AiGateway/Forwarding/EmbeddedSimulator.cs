using LlmSimulator;

namespace AiGateway.Forwarding;

/// <summary>
/// The built-in LLM simulator for the embedded demo: started on a loopback port inside the gateway process
/// the first time a provider with baseUrl <c>embedded://llm-simulator</c> needs an address.
/// </summary>
internal sealed partial class EmbeddedSimulator : IAsyncDisposable
{
    private readonly ILogger<EmbeddedSimulator> _logger;
    private readonly Lock _lock = new();
    private SimulatorServer? _server;

    public EmbeddedSimulator(ILogger<EmbeddedSimulator> logger) => _logger = logger;

    /// <summary>The simulator's base address, starting it on first use.</summary>
    public Uri GetAddress()
    {
        lock (_lock)
        {
            if (_server is null)
            {
                // Composition-time only (first proxy config build); never on the request path.
                _server = SimulatorServer.StartAsync(new SimulatorOptions { Name = "embedded", RecordRequests = false })
                    .GetAwaiter().GetResult();
                Log.Started(_logger, _server.BaseAddress);
            }

            return _server.BaseAddress;
        }
    }

    public async ValueTask DisposeAsync()
    {
        SimulatorServer? server;
        lock (_lock)
        {
            server = _server;
            _server = null;
        }

        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.EmbeddedSimulatorStarted, LogLevel.Information, "Embedded LLM simulator listening on {Address} (demo upstream).", EventName = "EmbeddedSimulatorStarted")]
        public static partial void Started(ILogger logger, Uri address);
    }
}
