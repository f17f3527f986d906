using System.Collections.Frozen;
using System.Text;
using AiGateway.Configuration;
using AiGateway.Markings;
using AiGateway.Model;
using AiGateway.RateLimiting;
using BenchmarkDotNet.Attributes;

namespace AiGateway.Benchmarks.RateLimiting;

/// <summary>
/// Cost of counting prompt tokens before forwarding, per prompt size: the o200k_base tokenizer on text not seen before,
/// the same caller resending it (a conversation's history: <see cref="TokenCountCache"/>), and the character estimate.
/// </summary>
[MemoryDiagnoser]
public class TokenCounterBenchmarks
{
    private static readonly Caller s_caller = new() { Agency = "perf", SubjectId = "caller-1", Kind = CallerKind.Person, Roles = ["user"], Issuer = "http://127.0.0.1/" };
    private readonly TokenCounter _counter = new();
    private LlmRequest _request = null!;
    private ModelRoute _openAI = null!;
    private ModelRoute _anthropic = null!;

    [Params(1024, 32 * 1024)]
    public int PromptBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var words = new[] { "the", "agency", "requested", "a", "summary", "of", "quarterly", "budget", "figures", "and", "program", "milestones", "for", "review." };
        var text = new StringBuilder();
        var random = new Random(42);
        while (text.Length < PromptBytes)
        {
            text.Append(words[random.Next(words.Length)]).Append(' ');
        }

        _request = new LlmRequest
        {
            Endpoint = new ApiEndpoint(ApiDialect.OpenAI, ApiOperation.ChatCompletions, null),
            Model = "gpt-4o-mini",
            Segments = [new TextSegment(SegmentSource.Message, 0, "user", text.ToString(0, PromptBytes))],
        };
        _openAI = Route("gpt-4o-mini", ProviderApi.OpenAI);
        _anthropic = Route("claude-3-5-haiku", ProviderApi.Anthropic);
        _counter.CountPrompt(_request, _openAI); // load the tokenizer data outside the measurement
    }

    [Benchmark(Baseline = true)]
    public int Tiktoken_o200k() => _counter.CountPrompt(_request, _openAI);

    [Benchmark]
    public int Tiktoken_o200k_resent_by_the_same_caller() => _counter.CountPrompt(_request, _openAI, s_caller);

    [Benchmark]
    public int Character_estimate() => _counter.CountPrompt(_request, _anthropic);

    private static ModelRoute Route(string name, ProviderApi api)
    {
        var deployment = new UpstreamDeployment
        {
            DestinationId = "0",
            Provider = new UpstreamProvider { Name = "p", Api = api, BaseUrl = new Uri("http://127.0.0.1/") },
            UpstreamModel = name,
        };
        return new ModelRoute
        {
            Name = name,
            Aliases = [],
            Ceiling = MarkingLevel.Unclassified,
            ClusterId = "model:" + name,
            Deployments = [deployment],
            DeploymentsByDestination = new Dictionary<string, UpstreamDeployment> { ["0"] = deployment }.ToFrozenDictionary(),
        };
    }
}
