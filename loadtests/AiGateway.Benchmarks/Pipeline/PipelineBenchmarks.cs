using System.Text;
using AiGateway.Configuration;
using AiGateway.Inspection;
using AiGateway.Markings;
using AiGateway.Model;
using AiGateway.Parsing;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;

namespace AiGateway.Benchmarks.Pipeline;

/// <summary>
/// Per-request cost of the pipeline stages the load tests exercise, allocations included (issue #9).
/// Run: dotnet run -c Release --project loadtests/AiGateway.Benchmarks -- --filter '*Pipeline*' --job short
/// </summary>
[MemoryDiagnoser]
public class RequestParserPipelineBenchmarks
{
    private static readonly ApiEndpoint s_chat = ApiEndpoint.Classify(new PathString("/v1/chat/completions"));
    private byte[] _body = [];

    [Params(1024, 32 * 1024)]
    public int BodyBytes { get; set; }

    [GlobalSetup]
    public void Setup() => _body = PipelineBodies.Chat(BodyBytes, stream: false);

    /// <summary>Stage 3: the chat body parsed into the request view (model, segments, options).</summary>
    [Benchmark]
    public int Parse() => LlmRequestParser.Parse(_body, s_chat, out _)!.Segments.Count;
}

/// <summary>Stage 8: a streamed answer (50 chunks + usage + [DONE]) through <see cref="AnswerInspectionStream"/>.</summary>
[MemoryDiagnoser]
public class AnswerSsePipelineBenchmarks
{
    private readonly MarkingScanner _scanner = new();
    private byte[][] _events = [];
    private GatewaySnapshot? _config;

    [Params(true, false)]
    public bool InspectAnswers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _config = GatewayConfigLoader.Load(PipelineBodies.RepositoryConfig(), isProduction: false);
        var words = "This is a simulated reply from the simulator about the quarterly logistics review. It is generated deterministically and split into chunks. ";
        var events = new List<byte[]>();
        for (var i = 0; i < 50; i++)
        {
            var text = words.Substring(i % 40, 6);
            events.Add(Encoding.UTF8.GetBytes($"data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":null}}]}}\n\n"));
        }

        events.Add(Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":250,\"completion_tokens\":50,\"total_tokens\":300}}\n\n"));
        events.Add("data: [DONE]\n\n"u8.ToArray());
        _events = [.. events];
    }

    [Benchmark]
    public async Task<long> StreamFiftyChunks()
    {
        var context = new DefaultHttpContext();
        var feature = new GatewayRequestFeature(ApiEndpoint.Classify(new PathString("/v1/chat/completions")), _config!, 0);
        context.Features.Set(feature);
        context.Response.ContentType = "text/event-stream";
        var policy = InspectionPolicy.Default with { InspectAnswers = InspectAnswers };
        var stream = new AnswerInspectionStream(context, Stream.Null, _scanner, MarkingLevel.Unclassified, policy, ApiDialect.OpenAI, "gpt-4o-mini", dropUsageEvents: false);
        foreach (var e in _events)
        {
            await stream.WriteAsync(e);
            await stream.FlushAsync();
        }

        await stream.CompleteAsync(feature, CancellationToken.None);
        return feature.AnswerCharacters;
    }
}

internal static class PipelineBodies
{
    private const string Sentence = "The quarterly logistics review covers fleet maintenance schedules, fuel budgets and depot staffing for the northern region. ";

    /// <summary>The load tests' chat body of exactly <paramref name="size"/> bytes.</summary>
    public static byte[] Chat(int size, bool stream)
    {
        var head = "{\"model\":\"gpt-4o-mini\"," + (stream ? "\"stream\":true," : "") + "\"max_tokens\":256,\"messages\":[{\"role\":\"system\",\"content\":\"You are a concise assistant for agency staff.\"},{\"role\":\"user\",\"content\":\"";
        const string Tail = "\"}]}";
        var room = size - head.Length - Tail.Length;
        var text = new StringBuilder();
        while (text.Length < room)
        {
            text.Append(Sentence);
        }

        return Encoding.UTF8.GetBytes(head + text.ToString(0, room) + Tail);
    }

    /// <summary>The repository's config/ (BenchmarkDotNet runs from a generated folder, so walk up to the solution).</summary>
    public static string RepositoryConfig()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AiGateway.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("run inside the repository"), "config");
    }
}
