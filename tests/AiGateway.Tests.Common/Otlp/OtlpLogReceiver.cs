using System.Collections.Concurrent;
using System.Net;
using AiGateway.Tests.Common.Otlp.Proto.Collector;
using AiGateway.Tests.Common.Otlp.Proto.Common;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AiGateway.Tests.Common.Otlp;

/// <summary>One decoded OTLP log record.</summary>
/// <param name="Body">The body when it is a string (the gateway's audit records carry OCSF JSON there).</param>
/// <param name="Attributes">Attributes with scalar values as strings.</param>
public sealed record OtlpLogRecord(string? Body, IReadOnlyDictionary<string, string> Attributes, IReadOnlyDictionary<string, string> Resource, int SeverityNumber, string TraceId, string EventName);

/// <summary>
/// A real OTLP/HTTP receiver on a loopback port: accepts <c>POST /v1/logs</c> with <c>application/x-protobuf</c>,
/// decodes <c>ExportLogsServiceRequest</c> with Google.Protobuf (OTLP .proto subset compiled by Grpc.Tools) and
/// keeps every record and the raw payloads. Other signals (<c>/v1/traces</c>, <c>/v1/metrics</c>) are accepted and
/// their raw payloads kept. <see cref="IsAvailable"/> = false answers 503 (a collector outage).
/// </summary>
public sealed class OtlpLogReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpLogRecord> _records = new();
    private readonly ConcurrentQueue<(string Path, byte[] Payload)> _payloads = new();
    private volatile bool _isAvailable = true;

    private OtlpLogReceiver(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public IReadOnlyList<OtlpLogRecord> Records => [.. _records];

    /// <summary>Every request body received, by path (logs, traces, metrics).</summary>
    public IReadOnlyList<(string Path, byte[] Payload)> Payloads => [.. _payloads];

    public bool IsAvailable
    {
        get => _isAvailable;
        set => _isAvailable = value;
    }

    public static async Task<OtlpLogReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        OtlpLogReceiver? receiver = null;
        app.Run(context => receiver!.HandleAsync(context));
        try
        {
            await app.StartAsync().ConfigureAwait(false);
            receiver = new OtlpLogReceiver(app, new Uri(app.Urls.Single() + "/"));
            return receiver;
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> records arrived (fails after <paramref name="timeout"/>).</summary>
    public async Task<IReadOnlyList<OtlpLogRecord>> WaitForRecordsAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_records.Count < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Expected {count} OTLP log record(s), received {_records.Count}.");
            }

            await Task.Delay(25).ConfigureAwait(false);
        }

        return Records;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Decodes an OTLP/HTTP protobuf logs request body.</summary>
    public static IReadOnlyList<OtlpLogRecord> Decode(byte[] payload)
    {
        var request = ExportLogsServiceRequest.Parser.ParseFrom(payload);
        var records = new List<OtlpLogRecord>();
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var resource = ToDictionary(resourceLogs.Resource?.Attributes);
            foreach (var scope in resourceLogs.ScopeLogs)
            {
                foreach (var log in scope.LogRecords)
                {
                    records.Add(new OtlpLogRecord(
                        log.Body?.ValueCase == AnyValue.ValueOneofCase.StringValue ? log.Body.StringValue : log.Body?.ToString(),
                        ToDictionary(log.Attributes),
                        resource,
                        log.SeverityNumber,
                        Convert.ToHexStringLower(log.TraceId.Span),
                        log.EventName));
                }
            }
        }

        return records;
    }

    private static Dictionary<string, string> ToDictionary(IEnumerable<KeyValue>? attributes)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (attributes is null)
        {
            return result;
        }

        foreach (var attribute in attributes)
        {
            result[attribute.Key] = attribute.Value?.ValueCase switch
            {
                AnyValue.ValueOneofCase.StringValue => attribute.Value.StringValue,
                AnyValue.ValueOneofCase.IntValue => attribute.Value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                AnyValue.ValueOneofCase.BoolValue => attribute.Value.BoolValue ? "true" : "false",
                AnyValue.ValueOneofCase.DoubleValue => attribute.Value.DoubleValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => attribute.Value?.ToString() ?? string.Empty,
            };
        }

        return result;
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        if (!_isAvailable)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        var payload = body.ToArray();
        var path = context.Request.Path.Value ?? "/";
        _payloads.Enqueue((path, payload));
        if (path == "/v1/logs")
        {
            foreach (var record in Decode(payload))
            {
                _records.Enqueue(record);
            }
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-protobuf";
        await context.Response.Body.WriteAsync(new ExportLogsServiceResponse().ToByteArray(), context.RequestAborted).ConfigureAwait(false);
    }
}
