using System.Buffers;
using System.Net;
using System.Text;
using System.Threading.Channels;
using AiGateway.Audit;
using AiGateway.Configuration;
using AiGateway.Inspection;
using AiGateway.Markings;
using AiGateway.Model;
using BenchmarkDotNet.Attributes;

namespace AiGateway.Benchmarks.Audit;

/// <summary>
/// What the audit trail costs per request: building the event, serialising it as OCSF JSON and queueing it (the
/// request path does build + queue; the writer thread serialises), and the journal's append + hash chain + fsync
/// per event at several batch sizes. Compare with ~44 µs CPU per request of a plain YARP passthrough.
/// </summary>
[MemoryDiagnoser]
public class AuditEventBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(8192);
    private readonly Channel<AuditEvent> _channel = Channel.CreateBounded<AuditEvent>(1024);
    private Caller _caller = null!;
    private UpstreamDeployment _deployment = null!;
    private InspectionOutcome _inspection = null!;
    private AuditEvent _event = null!;
    private byte[] _json = null!;
    private AuditJournal _journal = null!;
    private string _dir = null!;

    /// <summary>Events appended per write + fsync (1 = a quiet gateway; 64 and 512 = busy ones, grouped by the flush window).</summary>
    public int EventsPerFsync { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _caller = new Caller
        {
            Agency = "alpha",
            SubjectId = "7f3c2a10-4b8e-4c1a-9d2e-1f0a9b8c7d6e",
            Kind = CallerKind.Person,
            Roles = ["analyst", "engineer"],
            Issuer = "https://login.microsoftonline.us/6c3e1c7a-1f7b-4c9e-9a55-0f4d2b8e7c11/v2.0",
            DisplayName = "Erin Engineer",
            UserName = "erin@alpha.example.gov",
        };
        var provider = new UpstreamProvider { Name = "azure-east", Api = ProviderApi.AzureOpenAI, BaseUrl = new Uri("https://east.openai.azure.us/") };
        _deployment = new UpstreamDeployment { DestinationId = "0:azure-east", Provider = provider, UpstreamModel = "gpt-4o-mini", AzureDeployment = "gpt-4o-mini" };
        _inspection = new InspectionOutcome(MarkingDecision.WithinCeiling, MarkingLevel.Cui, MarkingLevel.Cui,
            [new MarkingFinding(MarkingKind.Banner, MarkingLevel.Cui, 1, 0, 12), new MarkingFinding(MarkingKind.PortionMark, MarkingLevel.Cui, 1, 40, 5)]);
        _event = Build();
        OcsfApiActivity.Write(_event, _buffer);
        _json = _buffer.WrittenSpan.ToArray();

        _dir = Path.Combine(Path.GetTempPath(), "aigw-bench-" + Guid.NewGuid().ToString("N"));
        _journal = new AuditJournal(_dir, Encoding.UTF8.GetBytes("benchmark-signing-key-0123456789abcdef"), 64L << 20, TimeSpan.FromHours(1), TimeProvider.System);
        _journal.Open();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _journal.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private AuditEvent Build() => new()
    {
        EventId = Guid.CreateVersion7(),
        StartTimeUnixMs = 1_763_900_000_000,
        EndTimeUnixMs = 1_763_900_000_850,
        RequestId = "0HNQ9IEF69CEA:00000001",
        TraceId = "8d1a023a8135fe5507ec7944172a4299",
        SpanId = "f557416c396f6798",
        Caller = _caller,
        GrantingRole = "engineer",
        ClientIp = IPAddress.Parse("10.20.30.40"),
        ClientPort = 51234,
        UserAgent = "OpenAI/Python 1.54.0",
        HttpMethod = "POST",
        Path = "/v1/chat/completions",
        Endpoint = new ApiEndpoint(ApiDialect.OpenAI, ApiOperation.ChatCompletions, null),
        RequestedModel = "gpt-4o-mini",
        Model = "gpt-4o-mini",
        ModelCeiling = MarkingLevel.Cui,
        Stream = true,
        Deployment = _deployment,
        Attempts = 1,
        Decision = AuditDecision.Allowed,
        StatusCode = 200,
        PromptInspection = _inspection,
        Usage = new TokenUsage(1200, 350),
        Limits = new LimitOutcome("allowed", null, 59, 18_450, 1550),
        TotalMs = 850.2,
        UpstreamMs = 812.7,
        TimeToFirstByteMs = 240.1,
    };

    /// <summary>Request path: build the event and queue it.</summary>
    [Benchmark]
    public bool BuildAndEnqueue()
    {
        var ok = _channel.Writer.TryWrite(Build());
        _channel.Reader.TryRead(out _);
        return ok;
    }

    /// <summary>Writer thread: OCSF serialisation of one event.</summary>
    [Benchmark]
    public int Serialize()
    {
        _buffer.ResetWrittenCount();
        OcsfApiActivity.Write(_event, _buffer);
        return _buffer.WrittenCount;
    }

    /// <summary>Build + serialise + queue: the whole CPU cost of one event outside the journal.</summary>
    [Benchmark]
    public int BuildSerializeEnqueue()
    {
        var e = Build();
        _buffer.ResetWrittenCount();
        OcsfApiActivity.Write(e, _buffer);
        _channel.Writer.TryWrite(e);
        _channel.Reader.TryRead(out _);
        return _buffer.WrittenCount;
    }

    /// <summary>Journal: append (SHA-256 chain) <see cref="EventsPerFsync"/> events, then write + fsync once. Divide by EventsPerFsync for the per-event cost.</summary>
    public void JournalAppendBatch()
    {
        for (var i = 0; i < EventsPerFsync; i++)
        {
            _journal.Append(_json);
        }

        _journal.Flush();
    }
}

/// <summary>Journal throughput: append (SHA-256 chain) a batch of events, then one write + fsync.</summary>
[MemoryDiagnoser]
public class AuditJournalBenchmarks
{
    private readonly AuditEventBenchmarks _events = new();

    [Params(1, 64, 512)]
    public int EventsPerFsync { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _events.EventsPerFsync = EventsPerFsync;
        _events.Setup();
    }

    [GlobalCleanup]
    public void Cleanup() => _events.Cleanup();

    [Benchmark]
    public void AppendBatchAndFsync() => _events.JournalAppendBatch();
}
