using LlmSimulator;

// Standalone host for the demo and load tests: `dotnet run --project src/LlmSimulator -- --urls http://127.0.0.1:5100`.
// Options bind from the "Simulator" section (e.g. --Simulator:Name=upstream-a --Simulator:RequiredApiKey=k).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

// Recording is off by default here so a long load test does not grow memory.
var options = new SimulatorOptions { RecordRequests = false };
builder.Configuration.GetSection("Simulator").Bind(options);

var app = builder.Build();
app.MapLlmSimulator(options);
await app.RunAsync();
