using System.Buffers;
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
        w.WriteNumber("class_uid", ClassUid);
        w.WriteString("class_name", "API Activity");
        w.WriteNumber("category_uid", CategoryUid);
        w.WriteString("category_name", "Application Activity");
        w.WriteNumber("activity_id", activityId);
        w.WriteString("activity_name", activityName);
        w.WriteNumber("type_uid", (ClassUid * 100) + activityId);
        w.WriteString("type_name", "API Activity: " + activityName);
        w.WriteNumber("severity_id", severityId);
        w.WriteString("severity", severityName);
        w.WriteNumber("status_id", success ? 1 : 2);
        w.WriteString("status", success ? "Success" : "Failure");
        if (e.ReasonCode is not null)
        {
            w.WriteString("status_code", e.ReasonCode);
        }

        w.WriteString("message", Message(e));
        w.WriteNumber("time", e.StartTimeUnixMs);
        w.WriteNumber("start_time", e.StartTimeUnixMs);
        w.WriteNumber("end_time", e.EndTimeUnixMs);
        w.WriteNumber("duration", (long)e.TotalMs);

        w.WriteStartObject("metadata");
        w.WriteString("version", SchemaVersion);
        w.WriteString("uid", e.EventId);
        if (e.TraceId is not null)
        {
            w.WriteString("correlation_uid", e.TraceId);
        }

        w.WriteString("log_name", "aigateway.audit");
        w.WriteStartObject("product");
        w.WriteString("name", "AiGateway");
        w.WriteString("vendor_name", "AiGateway");
        w.WriteString("version", s_productVersion);
        w.WriteEndObject();
        w.WriteEndObject();

        WriteActor(w, e);

        w.WriteStartObject("src_endpoint");
        if (e.ClientIp is not null)
        {
            w.WriteString("ip", e.ClientIp.IsIPv4MappedToIPv6 ? e.ClientIp.MapToIPv4().ToString() : e.ClientIp.ToString());
            w.WriteNumber("port", e.ClientPort);
        }

        w.WriteEndObject();

        w.WriteStartObject("http_request");
        w.WriteString("http_method", e.HttpMethod);
        w.WriteStartObject("url");
        w.WriteString("path", e.Path); // never the query: Azure clients may put api-key there
        w.WriteEndObject();
        if (e.UserAgent is not null)
        {
            w.WriteString("user_agent", e.UserAgent);
        }

        w.WriteString("uid", e.RequestId);
        w.WriteEndObject();

        w.WriteStartObject("http_response");
        w.WriteNumber("code", e.StatusCode);
        w.WriteNumber("latency", (long)e.TotalMs);
        w.WriteEndObject();

        w.WriteStartObject("api");
        w.WriteString("operation", OperationName(e.Endpoint.Operation));
        w.WriteStartObject("service");
        w.WriteString("name", e.Deployment is { } d ? d.Provider.Name : "aigateway");
        w.WriteEndObject();
        w.WriteStartObject("request");
        w.WriteString("uid", e.RequestId);
        w.WriteEndObject();
        w.WriteStartObject("response");
        w.WriteNumber("code", e.StatusCode);
        if (e.ReasonCode is not null)
        {
            w.WriteString("error", e.ReasonCode);
        }

        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteStartObject("cloud");
        w.WriteString("provider", e.Deployment is { } dep ? ProviderApiName(dep.Provider.Api) : "none");
        w.WriteEndObject();

        WriteUnmapped(w, e);
        w.WriteEndObject();
    }

    private static string Message(AuditEvent e)
    {
        var decision = AuditEvent.DecisionName(e.Decision);
        var model = e.Model ?? e.RequestedModel;
        return model is null
            ? string.Concat(e.HttpMethod, " ", OperationName(e.Endpoint.Operation), ": ", decision)
            : string.Concat(e.HttpMethod, " ", OperationName(e.Endpoint.Operation), " ", model, ": ", decision);
    }

    private static void WriteActor(Utf8JsonWriter w, AuditEvent e)
    {
        w.WriteStartObject("actor");
        if (e.Caller is { } caller)
        {
            w.WriteStartObject("user");
            w.WriteString("uid", caller.SubjectId);
            if (caller.UserName is not null)
            {
                w.WriteString("name", caller.UserName);
            }

            if (caller.DisplayName is not null)
            {
                w.WriteString("full_name", caller.DisplayName);
            }

            w.WriteNumber("type_id", caller.Kind == CallerKind.Person ? 1 : 3);
            w.WriteString("type", caller.Kind == CallerKind.Person ? "User" : "System");
            w.WriteStartObject("org");
            w.WriteString("uid", caller.Agency);
            w.WriteString("name", caller.Agency);
            w.WriteEndObject();
            w.WriteEndObject();
            if (caller.ClientAppId is not null)
            {
                w.WriteString("app_uid", caller.ClientAppId);
            }

            w.WriteStartArray("authorizations");
            w.WriteStartObject();
            w.WriteString("decision", e.GrantingRole is null ? "Denied" : "Allowed");
            if (e.GrantingRole is not null)
            {
                w.WriteStartObject("policy");
                w.WriteString("name", e.GrantingRole);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndArray();
        }
        else
        {
            w.WriteStartObject("user");
            w.WriteNumber("type_id", 0);
            w.WriteString("type", "Unknown");
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteUnmapped(Utf8JsonWriter w, AuditEvent e)
    {
        w.WriteStartObject("unmapped");
        w.WriteString("request_id", e.RequestId);
        WriteStringOrNull(w, "trace_id", e.TraceId);
        WriteStringOrNull(w, "span_id", e.SpanId);
        WriteStringOrNull(w, "agency", e.Caller?.Agency);
        WriteStringOrNull(w, "caller_kind", e.Caller is null ? null : e.Caller.Kind == CallerKind.Person ? "person" : "workload");
        WriteStringOrNull(w, "issuer", e.Caller?.Issuer);
        w.WriteStartArray("roles");
        if (e.Caller is not null)
        {
            foreach (var role in e.Caller.Roles)
            {
                w.WriteStringValue(role);
            }
        }

        w.WriteEndArray();
        WriteStringOrNull(w, "granting_role", e.GrantingRole);
        w.WriteString("dialect", DialectName(e.Endpoint.Dialect));
        w.WriteString("operation", OperationName(e.Endpoint.Operation));
        WriteStringOrNull(w, "requested_model", e.RequestedModel);
        WriteStringOrNull(w, "model", e.Model);
        WriteStringOrNull(w, "model_ceiling", e.ModelCeiling is { } c ? InspectionOutcome.LevelName(c) : null);
        w.WriteBoolean("stream", e.Stream);

        if (e.Deployment is { } d)
        {
            w.WriteStartObject("upstream");
            w.WriteString("provider", d.Provider.Name);
            w.WriteString("provider_api", ProviderApiName(d.Provider.Api));
            w.WriteString("destination_id", d.DestinationId);
            w.WriteString("upstream_model", d.UpstreamModel);
            w.WriteNumber("attempts", e.Attempts);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("upstream");
        }

        w.WriteString("decision", AuditEvent.DecisionName(e.Decision));
        WriteStringOrNull(w, "reason_code", e.ReasonCode);

        w.WriteStartObject("markings");
        WriteInspection(w, "prompt", e.PromptInspection);
        WriteInspection(w, "answer", e.AnswerInspection);
        w.WriteEndObject();

        w.WriteStartObject("usage");
        if (e.Usage is { } u)
        {
            w.WriteNumber("prompt_tokens", u.PromptTokens);
            w.WriteNumber("completion_tokens", u.CompletionTokens);
            w.WriteNumber("total_tokens", u.TotalTokens);
            w.WriteNumber("cached_prompt_tokens", u.CachedPromptTokens);
            w.WriteNumber("reasoning_tokens", u.ReasoningTokens);
        }
        else
        {
            w.WriteNull("prompt_tokens");
            w.WriteNull("completion_tokens");
            w.WriteNull("total_tokens");
        }

        w.WriteEndObject();
        if (e.EstimatedCost is { } cost)
        {
            w.WriteNumber("estimated_cost_usd", cost);
        }
        else
        {
            w.WriteNull("estimated_cost_usd");
        }

        if (e.Limits is { } l)
        {
            w.WriteStartObject("limits");
            w.WriteString("decision", l.Decision);
            WriteStringOrNull(w, "limit_hit", l.LimitHit);
            WriteNumberOrNull(w, "remaining_requests", l.RemainingRequests);
            WriteNumberOrNull(w, "remaining_tokens", l.RemainingTokens);
            WriteNumberOrNull(w, "estimated_tokens", l.EstimatedTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("limits");
        }

        w.WriteStartObject("durations_ms");
        w.WriteNumber("total", Math.Round(e.TotalMs, 3));
        if (e.UpstreamMs is { } up)
        {
            w.WriteNumber("upstream", Math.Round(up, 3));
        }
        else
        {
            w.WriteNull("upstream");
        }

        if (e.TimeToFirstByteMs is { } ttfb)
        {
            w.WriteNumber("time_to_first_byte", Math.Round(ttfb, 3));
        }
        else
        {
            w.WriteNull("time_to_first_byte");
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteInspection(Utf8JsonWriter w, string name, InspectionOutcome? outcome)
    {
        if (outcome is null)
        {
            w.WriteNull(name);
            return;
        }

        w.WriteStartObject(name);
        w.WriteString("decision", outcome.Decision switch
        {
            MarkingDecision.Clean => "clean",
            MarkingDecision.WithinCeiling => "within_ceiling",
            MarkingDecision.Flagged => "flagged",
            _ => "blocked",
        });
        WriteStringOrNull(w, "highest_level", outcome.HighestLevel is { } h ? InspectionOutcome.LevelName(h) : null);
        w.WriteString("effective_ceiling", InspectionOutcome.LevelName(outcome.EffectiveCeiling));
        w.WriteNumber("count", outcome.Findings.Count);

        // Kind × level counts; findings lists are short, a quadratic pass beats a dictionary here.
        w.WriteStartArray("findings");
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
            w.WriteString("kind", KindName(findings[i].Kind));
            w.WriteString("level", InspectionOutcome.LevelName(findings[i].Level));
            w.WriteNumber("count", count);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string KindName(MarkingKind kind) => kind.ToString();

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
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

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, long? value)
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
