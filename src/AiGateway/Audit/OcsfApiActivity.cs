using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiGateway.Inspection;
using AiGateway.Markings;
using AiGateway.Model;

namespace AiGateway.Audit;

/// <summary>
/// Writes an <see cref="AuditEvent"/> as an OCSF 1.3 API Activity event (class_uid 6003, category 6 Application
/// Activity) so a SIEM ingests it without a parser; gateway-specific fields go in <c>unmapped</c>.
/// Never writes prompt or answer text, tokens or keys: the event holds none (see docs/audit-events.md).
/// </summary>
internal static class OcsfApiActivity
{
    public const int ClassUid = 6003;
    public const int CategoryUid = 6;
    public const string SchemaVersion = "1.3.0";

    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private static readonly string s_productVersion =
        typeof(OcsfApiActivity).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>OCSF activity: 1 Create (a completion, message or embedding), 2 Read (model list), 0 Unknown.</summary>
    public static (int Id, string Name) Activity(ApiOperation operation) => operation switch
    {
        ApiOperation.ChatCompletions or ApiOperation.Responses or ApiOperation.Embeddings or ApiOperation.Messages => (1, "Create"),
        ApiOperation.ListModels => (2, "Read"),
        _ => (0, "Unknown"),
    };

    /// <summary>OCSF severity: 1 Informational (allowed), 2 Low (client errors, aborts), 3 Medium (access denials, upstream and gateway errors), 4 High (classified content blocked).</summary>
    public static (int Id, string Name) Severity(AuditEvent e) => e.Decision switch
    {
        AuditDecision.Allowed when e.PromptInspection?.Decision == MarkingDecision.Flagged || e.AnswerInspection?.Decision == MarkingDecision.Flagged => (3, "Medium"),
        AuditDecision.Allowed => (1, "Informational"),
        AuditDecision.Blocked => (4, "High"),
        AuditDecision.ClientAborted => (2, "Low"),
        AuditDecision.Denied when e.StatusCode is 401 or 403 or 429 or 503 => (3, "Medium"),
        AuditDecision.Denied => (2, "Low"),
        _ => (3, "Medium"),
    };

    public static string OperationName(ApiOperation operation) => operation switch
    {
        ApiOperation.ChatCompletions => "chat.completions",
        ApiOperation.Responses => "responses",
        ApiOperation.Embeddings => "embeddings",
        ApiOperation.Messages => "messages",
        ApiOperation.ListModels => "models.list",
        _ => "unknown",
    };

    public static string DialectName(ApiDialect dialect) => dialect switch
    {
        ApiDialect.OpenAI => "openai",
        ApiDialect.AzureOpenAI => "azure-openai",
        _ => "anthropic",
    };

    public static string ProviderApiName(Configuration.ProviderApi api) => api switch
    {
        Configuration.ProviderApi.OpenAI => "openai",
        Configuration.ProviderApi.AzureOpenAI => "azure-openai",
        _ => "anthropic",
    };

    /// <summary>Serialises one event as compact UTF-8 JSON into <paramref name="output"/>.</summary>
    public static void Write(AuditEvent e, IBufferWriter<byte> output)
    {
        using var w = new Utf8JsonWriter(output, s_options);
        var (activityId, activityName) = Activity(e.Endpoint.Operation);
        var (severityId, severityName) = Severity(e);
        var success = e.Decision == AuditDecision.Allowed;

        w.WriteStartObject();
        w.WriteNumber("class_uid"u8, ClassUid);
        w.WriteString("class_name"u8, "API Activity"u8);
        w.WriteNumber("category_uid"u8, CategoryUid);
        w.WriteString("category_name"u8, "Application Activity"u8);
        w.WriteNumber("activity_id"u8, activityId);
        w.WriteString("activity_name"u8, activityName);
        w.WriteNumber("type_uid"u8, (ClassUid * 100) + activityId);
        w.WriteString("type_name"u8, activityId switch { 1 => "API Activity: Create"u8, 2 => "API Activity: Read"u8, _ => "API Activity: Unknown"u8 });
        w.WriteNumber("severity_id"u8, severityId);
        w.WriteString("severity"u8, severityName);
        w.WriteNumber("status_id"u8, success ? 1 : 2);
        w.WriteString("status"u8, success ? "Success" : "Failure");
        if (e.ReasonCode is not null)
        {
            w.WriteString("status_code"u8, e.ReasonCode);
        }

        WriteMessage(w, e);
        w.WriteNumber("time"u8, e.StartTimeUnixMs);
        w.WriteNumber("start_time"u8, e.StartTimeUnixMs);
        w.WriteNumber("end_time"u8, e.EndTimeUnixMs);
        w.WriteNumber("duration"u8, (long)e.TotalMs);

        w.WriteStartObject("metadata"u8);
        w.WriteString("version"u8, SchemaVersion);
        w.WriteString("uid"u8, e.EventId);
        if (e.TraceId is not null)
        {
            w.WriteString("correlation_uid"u8, e.TraceId);
        }

        w.WriteString("log_name"u8, "aigateway.audit"u8);
        w.WriteStartObject("product"u8);
        w.WriteString("name"u8, "AiGateway"u8);
        w.WriteString("vendor_name"u8, "AiGateway"u8);
        w.WriteString("version"u8, s_productVersion);
        w.WriteEndObject();
        w.WriteEndObject();

        WriteActor(w, e);

        w.WriteStartObject("src_endpoint"u8);
        if (e.ClientIp is not null)
        {
            Span<char> ip = stackalloc char[64]; // an IPv6 address with a scope id is at most 56
            var address = e.ClientIp.IsIPv4MappedToIPv6 ? e.ClientIp.MapToIPv4() : e.ClientIp;
            w.WriteString("ip"u8, address.TryFormat(ip, out var length) ? ip[..length] : address.ToString());
            w.WriteNumber("port"u8, e.ClientPort);
        }

        w.WriteEndObject();

        w.WriteStartObject("http_request"u8);
        w.WriteString("http_method"u8, e.HttpMethod);
        w.WriteStartObject("url"u8);
        w.WriteString("path"u8, e.Path); // never the query: Azure clients may put api-key there
        w.WriteEndObject();
        if (e.UserAgent is not null)
        {
            w.WriteString("user_agent"u8, e.UserAgent);
        }

        w.WriteString("uid"u8, e.RequestId);
        w.WriteEndObject();

        w.WriteStartObject("http_response"u8);
        w.WriteNumber("code"u8, e.StatusCode);
        w.WriteNumber("latency"u8, (long)e.TotalMs);
        w.WriteEndObject();

        w.WriteStartObject("api"u8);
        w.WriteString("operation"u8, OperationName(e.Endpoint.Operation));
        w.WriteStartObject("service"u8);
        w.WriteString("name"u8, e.Deployment is { } d ? d.Provider.Name : "aigateway");
        w.WriteEndObject();
        w.WriteStartObject("request"u8);
        w.WriteString("uid"u8, e.RequestId);
        w.WriteEndObject();
        w.WriteStartObject("response"u8);
        w.WriteNumber("code"u8, e.StatusCode);
        if (e.ReasonCode is not null)
        {
            w.WriteString("error"u8, e.ReasonCode);
        }

        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteStartObject("cloud"u8);
        w.WriteString("provider"u8, e.Deployment is { } dep ? ProviderApiName(dep.Provider.Api) : "none");
        w.WriteEndObject();

        WriteUnmapped(w, e);
        w.WriteEndObject();
    }

    /// <summary>"POST chat.completions gpt-4o-mini: allowed", composed in a stack buffer (no string per event).</summary>
    private static void WriteMessage(Utf8JsonWriter w, AuditEvent e)
    {
        var model = e.Model ?? e.RequestedModel;
        Span<char> buffer = stackalloc char[256];
        var text = new DefaultInterpolatedStringHandler(0, 0, null, buffer);
        text.AppendLiteral(e.HttpMethod);
        text.AppendLiteral(" ");
        text.AppendLiteral(OperationName(e.Endpoint.Operation));
        if (model is not null)
        {
            text.AppendLiteral(" ");
            text.AppendLiteral(model);
        }

        text.AppendLiteral(": ");
        text.AppendLiteral(AuditEvent.DecisionName(e.Decision));
        w.WriteString("message"u8, text.Text);
        text.Clear(); // returns a rented buffer when a long model name outgrew the stack one
    }

    private static void WriteActor(Utf8JsonWriter w, AuditEvent e)
    {
        w.WriteStartObject("actor"u8);
        if (e.Caller is { } caller)
        {
            w.WriteStartObject("user"u8);
            w.WriteString("uid"u8, caller.SubjectId);
            if (caller.UserName is not null)
            {
                w.WriteString("name"u8, caller.UserName);
            }

            if (caller.DisplayName is not null)
            {
                w.WriteString("full_name"u8, caller.DisplayName);
            }

            w.WriteNumber("type_id"u8, caller.Kind == CallerKind.Person ? 1 : 3);
            w.WriteString("type"u8, caller.Kind == CallerKind.Person ? "User" : "System");
            w.WriteStartObject("org"u8);
            w.WriteString("uid"u8, caller.Agency);
            w.WriteString("name"u8, caller.Agency);
            w.WriteEndObject();
            w.WriteEndObject();
            if (caller.ClientAppId is not null)
            {
                w.WriteString("app_uid"u8, caller.ClientAppId);
            }

            w.WriteStartArray("authorizations"u8);
            w.WriteStartObject();
            w.WriteString("decision"u8, e.GrantingRole is null ? "Denied" : "Allowed");
            if (e.GrantingRole is not null)
            {
                w.WriteStartObject("policy"u8);
                w.WriteString("name"u8, e.GrantingRole);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndArray();
        }
        else
        {
            w.WriteStartObject("user"u8);
            w.WriteNumber("type_id"u8, 0);
            w.WriteString("type"u8, "Unknown"u8);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteUnmapped(Utf8JsonWriter w, AuditEvent e)
    {
        w.WriteStartObject("unmapped"u8);
        w.WriteString("request_id"u8, e.RequestId);
        WriteStringOrNull(w, "trace_id"u8, e.TraceId);
        WriteStringOrNull(w, "span_id"u8, e.SpanId);
        WriteStringOrNull(w, "agency"u8, e.Caller?.Agency);
        WriteStringOrNull(w, "caller_kind"u8, e.Caller is null ? null : e.Caller.Kind == CallerKind.Person ? "person" : "workload");
        WriteStringOrNull(w, "issuer"u8, e.Caller?.Issuer);
        w.WriteStartArray("roles"u8);
        if (e.Caller is not null)
        {
            foreach (var role in e.Caller.Roles)
            {
                w.WriteStringValue(role);
            }
        }

        w.WriteEndArray();
        WriteStringOrNull(w, "granting_role"u8, e.GrantingRole);
        w.WriteString("dialect"u8, DialectName(e.Endpoint.Dialect));
        w.WriteString("operation"u8, OperationName(e.Endpoint.Operation));
        WriteStringOrNull(w, "requested_model"u8, e.RequestedModel);
        WriteStringOrNull(w, "model"u8, e.Model);
        WriteStringOrNull(w, "model_ceiling"u8, e.ModelCeiling is { } c ? InspectionOutcome.LevelName(c) : null);
        w.WriteBoolean("stream"u8, e.Stream);

        if (e.Deployment is { } d)
        {
            w.WriteStartObject("upstream"u8);
            w.WriteString("provider"u8, d.Provider.Name);
            w.WriteString("provider_api"u8, ProviderApiName(d.Provider.Api));
            w.WriteString("destination_id"u8, d.DestinationId);
            w.WriteString("upstream_model"u8, d.UpstreamModel);
            w.WriteNumber("attempts"u8, e.Attempts);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("upstream"u8);
        }

        w.WriteString("decision"u8, AuditEvent.DecisionName(e.Decision));
        WriteStringOrNull(w, "reason_code"u8, e.ReasonCode);

        w.WriteStartObject("markings"u8);
        WriteInspection(w, "prompt"u8, e.PromptInspection);
        WriteInspection(w, "answer"u8, e.AnswerInspection);
        w.WriteEndObject();

        w.WriteStartObject("usage"u8);
        if (e.Usage is { } u)
        {
            w.WriteNumber("prompt_tokens"u8, u.PromptTokens);
            w.WriteNumber("completion_tokens"u8, u.CompletionTokens);
            w.WriteNumber("total_tokens"u8, u.TotalTokens);
            w.WriteNumber("cached_prompt_tokens"u8, u.CachedPromptTokens);
            w.WriteNumber("reasoning_tokens"u8, u.ReasoningTokens);
        }
        else
        {
            w.WriteNull("prompt_tokens"u8);
            w.WriteNull("completion_tokens"u8);
            w.WriteNull("total_tokens"u8);
        }

        w.WriteEndObject();
        if (e.EstimatedCost is { } cost)
        {
            w.WriteNumber("estimated_cost_usd"u8, cost);
        }
        else
        {
            w.WriteNull("estimated_cost_usd"u8);
        }

        if (e.Limits is { } l)
        {
            w.WriteStartObject("limits"u8);
            w.WriteString("decision"u8, l.Decision);
            WriteStringOrNull(w, "limit_hit"u8, l.LimitHit);
            WriteNumberOrNull(w, "remaining_requests"u8, l.RemainingRequests);
            WriteNumberOrNull(w, "remaining_tokens"u8, l.RemainingTokens);
            WriteNumberOrNull(w, "estimated_tokens"u8, l.EstimatedTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("limits"u8);
        }

        w.WriteStartObject("durations_ms"u8);
        w.WriteNumber("total"u8, Math.Round(e.TotalMs, 3));
        if (e.UpstreamMs is { } up)
        {
            w.WriteNumber("upstream"u8, Math.Round(up, 3));
        }
        else
        {
            w.WriteNull("upstream"u8);
        }

        if (e.TimeToFirstByteMs is { } ttfb)
        {
            w.WriteNumber("time_to_first_byte"u8, Math.Round(ttfb, 3));
        }
        else
        {
            w.WriteNull("time_to_first_byte"u8);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteInspection(Utf8JsonWriter w, ReadOnlySpan<byte> name, InspectionOutcome? outcome)
    {
        if (outcome is null)
        {
            w.WriteNull(name);
            return;
        }

        w.WriteStartObject(name);
        w.WriteString("decision"u8, outcome.Decision switch
        {
            MarkingDecision.Clean => "clean",
            MarkingDecision.WithinCeiling => "within_ceiling",
            MarkingDecision.Flagged => "flagged",
            _ => "blocked",
        });
        WriteStringOrNull(w, "highest_level"u8, outcome.HighestLevel is { } h ? InspectionOutcome.LevelName(h) : null);
        w.WriteString("effective_ceiling"u8, InspectionOutcome.LevelName(outcome.EffectiveCeiling));
        w.WriteNumber("count"u8, outcome.Findings.Count);

        // Kind × level counts; findings lists are short, a quadratic pass beats a dictionary here.
        w.WriteStartArray("findings"u8);
        var findings = outcome.Findings;
        for (var i = 0; i < findings.Count; i++)
        {
            var seen = false;
            for (var j = 0; j < i; j++)
            {
                if (findings[j].Kind == findings[i].Kind && findings[j].Level == findings[i].Level)
                {
                    seen = true;
                    break;
                }
            }

            if (seen)
            {
                continue;
            }

            var count = 0;
            for (var j = i; j < findings.Count; j++)
            {
                if (findings[j].Kind == findings[i].Kind && findings[j].Level == findings[i].Level)
                {
                    count++;
                }
            }

            w.WriteStartObject();
            w.WriteString("kind"u8, KindName(findings[i].Kind));
            w.WriteString("level"u8, InspectionOutcome.LevelName(findings[i].Level));
            w.WriteNumber("count"u8, count);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string KindName(MarkingKind kind) => kind.ToString();

    private static void WriteStringOrNull(Utf8JsonWriter w, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, ReadOnlySpan<byte> name, long? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteNumber(name, value.Value);
        }
    }
}
