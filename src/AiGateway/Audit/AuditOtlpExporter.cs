using System.Collections;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;

namespace AiGateway.Audit;

/// <summary>
/// Sends audit events to the collector as OpenTelemetry log records over OTLP: the body is the OCSF JSON, the
/// attributes name the OCSF class and the outcome. A logger factory of its own, so application logs never mix
/// into the audit stream and audit events never reach the console. Batched, with the exporter's in-memory retry
/// for transient failures; the journal, not this sink, is the durable record.
/// </summary>
internal sealed class AuditOtlpExporter : IDisposable
{
    public const string CategoryName = "AiGateway.Audit";
    private static readonly EventId s_auditEvent = new(EventIds.AuditEventRecorded, "AuditEvent");

    private readonly ILoggerFactory _factory;
    private readonly ILogger _logger;

    public AuditOtlpExporter(OtlpSettings settings, string serviceInstanceId)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY", "in_memory")])
            .Build();
        _factory = LoggerFactory.Create(logging =>
        {
            logging.Services.AddSingleton<IConfiguration>(configuration);
            logging.SetMinimumLevel(LogLevel.Information);
            logging.AddOpenTelemetry(options =>
            {
                options.SetResourceBuilder(ResourceBuilder.CreateDefault().AddService("aigateway", serviceInstanceId: serviceInstanceId));
                options.IncludeFormattedMessage = true;
                options.IncludeScopes = false;
                options.ParseStateValues = true;
                options.AddOtlpExporter((exporter, processor) =>
                {
                    exporter.Endpoint = settings.SignalEndpoint("logs");
                    exporter.Protocol = settings.Protocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                    exporter.TimeoutMilliseconds = 5000;
                    processor.ExportProcessorType = OpenTelemetry.ExportProcessorType.Batch;
                    processor.BatchExportProcessorOptions.ScheduledDelayMilliseconds = settings.ExportIntervalMilliseconds;
                    processor.BatchExportProcessorOptions.MaxQueueSize = 65536;
                    processor.BatchExportProcessorOptions.MaxExportBatchSize = 512;
                });
            });
        });
        _logger = _factory.CreateLogger(CategoryName);
    }

    /// <summary>Queues one event for export (never blocks, never throws).</summary>
    public void Export(AuditEvent e, string ocsfJson) =>
        _logger.Log(LogLevel.Information, s_auditEvent, new AuditLogState(e.RequestId, AuditEvent.DecisionName(e.Decision), e.Caller?.Agency, e.StatusCode, ocsfJson), null, static (state, _) => state.Json);

    /// <summary>Flushes what is queued (bounded by the exporter timeout) and stops.</summary>
    public void Dispose() => _factory.Dispose();

    /// <summary>
    /// The attributes of an audit log record; the formatted message (the body) is the OCSF JSON. It holds the values,
    /// not the event: the record waits in the exporter's queue, and the event would keep the request's objects alive.
    /// </summary>
    private sealed class AuditLogState(string requestId, string decision, string? agency, int statusCode, string json) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private static readonly object s_classUid = OcsfApiActivity.ClassUid;
        private readonly object _statusCode = statusCode;

        public string Json { get; } = json;

        public int Count => 6;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("event.name", "ocsf.api_activity"),
            1 => new("ocsf.class_uid", s_classUid),
            2 => new("aigateway.request_id", requestId),
            3 => new("aigateway.decision", decision),
            4 => new("aigateway.agency", agency),
            5 => new("http.response.status_code", _statusCode),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
