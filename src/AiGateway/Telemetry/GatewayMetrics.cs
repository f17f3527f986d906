using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiGateway.Audit;
using AiGateway.Configuration;
using AiGateway.Inspection;
using AiGateway.Model;

namespace AiGateway.Telemetry;

/// <summary>
/// The gateway's meters: OpenTelemetry GenAI semantic-convention instruments (token usage and operation duration as
/// a client of the upstream model) plus gateway counters. Tag values are bounded: configured names (agencies,
/// models, limits), enums and status codes — never user ids or client-supplied strings.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "AiGateway";

    private static readonly long[] s_tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] s_durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _operationDuration;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _inspectionBlocks;
    private readonly Counter<long> _limitRejections;
    private readonly Counter<long> _failovers;
    private readonly Counter<long> _auditDropped;
    private readonly Counter<long> _auditJournalFailures;
    private readonly Counter<long> _auditFailOpen;
    private Func<long>? _auditQueueDepth;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _tokenUsage = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used, per upstream call.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = s_tokenBuckets });
        _operationDuration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "Duration of GenAI operations forwarded upstream.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _requests = meter.CreateCounter<long>("aigateway.requests", "{request}", "Requests handled, by decision and agency.");
        _inspectionBlocks = meter.CreateCounter<long>("aigateway.inspection.blocks", "{request}", "Requests blocked by marking inspection, by highest level.");
        _limitRejections = meter.CreateCounter<long>("aigateway.rate_limit.rejections", "{request}", "Requests refused by rate limits or budgets.");
        _failovers = meter.CreateCounter<long>("aigateway.upstream.failovers", "{attempt}", "Attempts retried on another deployment.");
        _auditDropped = meter.CreateCounter<long>("aigateway.audit.dropped", "{event}", "Audit events that could not be recorded (must stay 0).");
        _auditJournalFailures = meter.CreateCounter<long>("aigateway.audit.journal.failures", "{failure}", "Failed journal writes (retried).");
        _auditFailOpen = meter.CreateCounter<long>("aigateway.audit.fail_open.requests", "{request}", "Requests served while the audit journal was unavailable (agency policy fail-open).");
        meter.CreateObservableUpDownCounter("aigateway.audit.queue.depth", () => _auditQueueDepth?.Invoke() ?? 0, "{event}", "Audit events waiting for the journal writer.");
    }

    /// <summary>Connects the audit queue depth gauge to its source.</summary>
    public void ObserveAuditQueue(Func<long> depth) => _auditQueueDepth = depth;

    public void AuditDropped() => _auditDropped.Add(1);

    public void AuditJournalFailed() => _auditJournalFailures.Add(1);

    public void AuditFailOpenServed(string agency)
    {
        if (_auditFailOpen.Enabled)
        {
            _auditFailOpen.Add(1, new KeyValuePair<string, object?>("aigateway.agency", agency));
        }
    }

    /// <summary>Records the metrics of one finished request from its audit event.</summary>
    public void RequestCompleted(AuditEvent e)
    {
        var agency = e.Caller?.Agency ?? "none";
        if (_requests.Enabled)
        {
            _requests.Add(1,
                new KeyValuePair<string, object?>("aigateway.decision", AuditEvent.DecisionName(e.Decision)),
                new KeyValuePair<string, object?>("aigateway.agency", agency),
                new KeyValuePair<string, object?>("http.response.status_code", e.StatusCode));
        }

        if (e.Decision == AuditDecision.Blocked && _inspectionBlocks.Enabled)
        {
            var blocked = e.PromptInspection?.Decision == MarkingDecision.Blocked ? e.PromptInspection : e.AnswerInspection;
            _inspectionBlocks.Add(1,
                new KeyValuePair<string, object?>("aigateway.marking.level", blocked?.HighestLevel is { } level ? InspectionOutcome.LevelName(level) : "unknown"),
                new KeyValuePair<string, object?>("aigateway.inspection.target", ReferenceEquals(blocked, e.PromptInspection) ? "prompt" : "answer"),
                new KeyValuePair<string, object?>("aigateway.agency", agency));
        }

        if (e.StatusCode == StatusCodes.Status429TooManyRequests && e.Decision == AuditDecision.Denied && _limitRejections.Enabled)
        {
            _limitRejections.Add(1,
                new KeyValuePair<string, object?>("aigateway.limit", e.Limits?.LimitHit ?? "unknown"),
                new KeyValuePair<string, object?>("aigateway.agency", agency));
        }

        if (e.Deployment is not { } deployment || e.Model is null)
        {
            return;
        }

        var provider = ProviderName(deployment.Provider.Api);
        var operation = OperationName(e.Endpoint.Operation);
        if (e.Attempts > 1 && _failovers.Enabled)
        {
            _failovers.Add(e.Attempts - 1,
                new KeyValuePair<string, object?>("gen_ai.request.model", e.Model),
                new KeyValuePair<string, object?>("gen_ai.provider.name", provider));
        }

        if (_operationDuration.Enabled)
        {
            var tags = new TagList
            {
                { "gen_ai.operation.name", operation },
                { "gen_ai.provider.name", provider },
                { "gen_ai.request.model", e.Model },
            };
            if (e.Decision != AuditDecision.Allowed)
            {
                tags.Add("error.type", e.ReasonCode ?? "_OTHER");
            }

            _operationDuration.Record((e.UpstreamMs ?? e.TotalMs) / 1000d, tags);
        }

        if (e.Usage is { } usage && _tokenUsage.Enabled)
        {
            _tokenUsage.Record(usage.PromptTokens, new TagList
            {
                { "gen_ai.operation.name", operation },
                { "gen_ai.provider.name", provider },
                { "gen_ai.request.model", e.Model },
                { "gen_ai.token.type", "input" },
            });
            _tokenUsage.Record(usage.CompletionTokens, new TagList
            {
                { "gen_ai.operation.name", operation },
                { "gen_ai.provider.name", provider },
                { "gen_ai.request.model", e.Model },
                { "gen_ai.token.type", "output" },
            });
        }
    }

    /// <summary>GenAI semantic-convention provider names.</summary>
    public static string ProviderName(ProviderApi api) => api switch
    {
        ProviderApi.OpenAI => "openai",
        ProviderApi.AzureOpenAI => "azure.ai.openai",
        _ => "anthropic",
    };

    /// <summary>GenAI semantic-convention operation names.</summary>
    public static string OperationName(ApiOperation operation) => operation switch
    {
        ApiOperation.Embeddings => "embeddings",
        _ => "chat",
    };
}
