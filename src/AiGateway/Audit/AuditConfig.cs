using AiGateway.Configuration;

namespace AiGateway.Audit;

// The "audit" sections of config/gateway.json and config/agencies/<agency>.json as operators write them.

/// <summary>config/gateway.json <c>audit</c>: the durable journal and the OTLP export of audit events.</summary>
public sealed record AuditConfig
{
    /// <summary>Journal directory; default <c>&lt;data dir&gt;/audit</c>. A relative path is taken from the data directory.</summary>
    public string? JournalDirectory { get; init; }

    /// <summary>A journal file is closed (with a signed checkpoint) and a new one started above this size. Default 64 MiB.</summary>
    public long RotationBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>A journal file is also rotated after this many minutes. Default 60.</summary>
    public double RotationMinutes { get; init; } = 60;

    /// <summary>Longest time an event may wait in memory before it is written and fsynced (what a crash can lose). Default 100 ms.</summary>
    public int FlushWindowMilliseconds { get; init; } = 100;

    /// <summary>A signed checkpoint is written at least this often while events arrive. Default 60 s.</summary>
    public double CheckpointIntervalSeconds { get; init; } = 60;

    /// <summary>Events held in memory waiting for the journal writer; above it an event is dropped (and counted). Default 16384.</summary>
    public int QueueCapacity { get; init; } = 16384;

    /// <summary>Where the checkpoint signing key (≥ 32 characters) is read from; absent: a key generated on first run in the data directory.</summary>
    public CredentialReference? SigningKey { get; init; }

    /// <summary>The collector receiving audit events (and, optionally, traces and metrics). Absent: no OTLP export.</summary>
    public OtlpConfig? Otlp { get; init; }
}

/// <summary>An OpenTelemetry collector endpoint.</summary>
public sealed record OtlpConfig
{
    /// <summary>Collector base URL, e.g. http://otel-collector:4318 (http/protobuf) or http://otel-collector:4317 (grpc).</summary>
    public string? Endpoint { get; init; }

    /// <summary><c>http/protobuf</c> (default) or <c>grpc</c>.</summary>
    public string Protocol { get; init; } = "http/protobuf";

    /// <summary>Export traces (ASP.NET Core and HttpClient spans, never prompt or answer text) to the same collector. Default true.</summary>
    public bool ExportTraces { get; init; } = true;

    /// <summary>Export metrics (GenAI and gateway meters) to the same collector. Default true.</summary>
    public bool ExportMetrics { get; init; } = true;

    /// <summary>Audit events are exported in batches at most this far apart. Default 1000 ms.</summary>
    public int ExportIntervalMilliseconds { get; init; } = 1000;
}

/// <summary>config/agencies/&lt;agency&gt;.json <c>audit</c>.</summary>
public sealed record AgencyAuditConfig
{
    /// <summary><c>fail-closed</c> (default: 503 for new requests while audit cannot be recorded) or <c>fail-open</c> (serve, count, alert).</summary>
    public string OnFailure { get; init; } = "fail-closed";

    /// <summary>
    /// Record prompt and answer text in the separate content journal (<c>&lt;journal dir&gt;-content/</c>), keyed by the
    /// audit event id. Default false: no text is kept anywhere.
    /// </summary>
    public bool CaptureContent { get; init; }
}

/// <summary>What an agency wants when audit events cannot be recorded.</summary>
internal enum AuditFailurePolicy
{
    FailClosed,
    FailOpen,
}

/// <summary>The OTLP wire protocol.</summary>
internal enum OtlpProtocol
{
    HttpProtobuf,
    Grpc,
}

/// <summary>Validated OTLP settings.</summary>
internal sealed record OtlpSettings(Uri Endpoint, OtlpProtocol Protocol, bool ExportTraces, bool ExportMetrics, int ExportIntervalMilliseconds)
{
    /// <summary>The endpoint of one signal: http/protobuf needs the signal path (<c>/v1/logs</c>), grpc takes the base URL.</summary>
    public Uri SignalEndpoint(string signal)
    {
        if (Protocol == OtlpProtocol.Grpc)
        {
            return Endpoint;
        }

        var path = Endpoint.AbsolutePath.TrimEnd('/');
        return path.EndsWith("/v1/" + signal, StringComparison.Ordinal)
            ? Endpoint
            : new Uri(Endpoint, path + "/v1/" + signal);
    }
}

/// <summary>The validated gateway-level audit settings. <see cref="SigningKey"/> is a secret: never logged.</summary>
internal sealed class AuditSettings
{
    public static AuditSettings Default { get; } = new();

    public string? JournalDirectory { get; init; }

    public long RotationBytes { get; init; } = 64L * 1024 * 1024;

    public TimeSpan RotationInterval { get; init; } = TimeSpan.FromMinutes(60);

    public TimeSpan FlushWindow { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(60);

    public int QueueCapacity { get; init; } = 16384;

    /// <summary>The signing key text from its reference, or null to use the generated key in the data directory.</summary>
    public string? SigningKey { get; init; }

    public OtlpSettings? Otlp { get; init; }

    public override string ToString() => $"journal={JournalDirectory ?? "<data>/audit"}, otlp={Otlp?.Endpoint}";

    /// <summary>Validates the <c>audit</c> section; every problem is reported through <paramref name="error"/> (JSON path, message).</summary>
    public static AuditSettings Validate(AuditConfig config, Func<CredentialReference, string, string?> resolveKey, Action<string, string> error)
    {
        if (config.RotationBytes is < 64 * 1024 or > 16L * 1024 * 1024 * 1024)
        {
            error("$.audit.rotationBytes", "must be between 65536 and 17179869184. Fix: e.g. 67108864 (64 MiB).");
        }

        if (config.RotationMinutes is < 1 or > 7 * 24 * 60)
        {
            error("$.audit.rotationMinutes", "must be between 1 and 10080 (one week).");
        }

        if (config.FlushWindowMilliseconds is < 0 or > 10_000)
        {
            error("$.audit.flushWindowMilliseconds", "must be between 0 and 10000; it bounds what a crash can lose. Fix: e.g. 100.");
        }

        if (config.CheckpointIntervalSeconds is < 1 or > 86_400)
        {
            error("$.audit.checkpointIntervalSeconds", "must be between 1 and 86400.");
        }

        if (config.QueueCapacity is < 16 or > 10_000_000)
        {
            error("$.audit.queueCapacity", "must be between 16 and 10000000.");
        }

        if (config.JournalDirectory is { } dir && string.IsNullOrWhiteSpace(dir))
        {
            error("$.audit.journalDirectory", "must not be empty. Fix: remove it to use <data dir>/audit, or name a directory.");
        }

        string? key = null;
        if (config.SigningKey is not null)
        {
            key = resolveKey(config.SigningKey, "$.audit.signingKey");
            if (key is not null && key.Length < 32)
            {
                error("$.audit.signingKey", "the signing key must be at least 32 characters. Fix: e.g. `openssl rand -base64 48`.");
            }
        }

        OtlpSettings? otlp = null;
        if (config.Otlp is { } o)
        {
            OtlpProtocol? protocol = o.Protocol switch
            {
                "http/protobuf" => OtlpProtocol.HttpProtobuf,
                "grpc" => OtlpProtocol.Grpc,
                _ => null,
            };
            if (protocol is null)
            {
                error("$.audit.otlp.protocol", $"'{o.Protocol}' is not an OTLP protocol. Fix: 'http/protobuf' (port 4318) or 'grpc' (port 4317).");
            }

            if (!Uri.TryCreate(o.Endpoint, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                error("$.audit.otlp.endpoint", $"'{o.Endpoint}' is not an absolute http(s) URL. Fix: e.g. 'http://otel-collector:4318', or remove $.audit.otlp to turn OTLP export off.");
                endpoint = null;
            }

            if (o.ExportIntervalMilliseconds is < 100 or > 60_000)
            {
                error("$.audit.otlp.exportIntervalMilliseconds", "must be between 100 and 60000.");
            }

            if (endpoint is not null && protocol is not null)
            {
                otlp = new OtlpSettings(endpoint, protocol.Value, o.ExportTraces, o.ExportMetrics, o.ExportIntervalMilliseconds);
            }
        }

        return new AuditSettings
        {
            JournalDirectory = config.JournalDirectory,
            RotationBytes = config.RotationBytes,
            RotationInterval = TimeSpan.FromMinutes(config.RotationMinutes),
            FlushWindow = TimeSpan.FromMilliseconds(config.FlushWindowMilliseconds),
            CheckpointInterval = TimeSpan.FromSeconds(config.CheckpointIntervalSeconds),
            QueueCapacity = config.QueueCapacity,
            SigningKey = key,
            Otlp = otlp,
        };
    }

    /// <summary>Validates an agency's <c>audit</c> section.</summary>
    public static AuditFailurePolicy ValidateAgency(AgencyAuditConfig config, Action<string, string> error)
    {
        switch (config.OnFailure)
        {
            case "fail-closed":
                return AuditFailurePolicy.FailClosed;
            case "fail-open":
                return AuditFailurePolicy.FailOpen;
            default:
                error("$.audit.onFailure", $"'{config.OnFailure}' is not a failure policy. Fix: 'fail-closed' (default: 503 while audit cannot be recorded) or 'fail-open' (serve, count, alert).");
                return AuditFailurePolicy.FailClosed;
        }
    }
}
