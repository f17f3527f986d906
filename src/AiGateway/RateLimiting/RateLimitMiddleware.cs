using System.Globalization;
using AiGateway.Configuration;
using AiGateway.Model;

namespace AiGateway.RateLimiting;

/// <summary>
/// Stage 6: reserves the request's estimated tokens and cost against every scope that applies (the caller —
/// the tightest of the agency's per-caller limits, the granting role's and the caller's own —, the agency, and the
/// model's capacity), refuses with 429 when a limit is reached, and after the answer replaces the reservation by
/// the provider's reported usage. Sets the OpenAI-style <c>x-ratelimit-*</c> headers on the response.
/// </summary>
internal sealed partial class RateLimitMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ILimitStore _store;
    private readonly LocalLimitFallback _fallback;
    private readonly TokenCounter _counter;
    private readonly ILogger<RateLimitMiddleware> _logger;

    public RateLimitMiddleware(RequestDelegate next, ILimitStore store, LocalLimitFallback fallback, TokenCounter counter, ILogger<RateLimitMiddleware> logger)
    {
        _next = next;
        _store = store;
        _fallback = fallback;
        _counter = counter;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var caller = feature.Caller!;
        var model = feature.Model!;
        var request = feature.Request!;
        var agency = feature.Config.Agencies[caller.Agency];
        var scopes = ScopesFor(caller, agency, model, feature.GrantingRole);
        if (AllUnlimited(scopes))
        {
            // Nothing to enforce: no store round trip (usage still reaches the audit event).
            await _next(context);
            return;
        }

        // The tokenizer costs ~20 µs per KiB of prompt: only pay it when a token or cost limit needs the estimate
        // (the commit replaces the reservation by the provider's usage either way), and only for text this caller has
        // not sent recently (TokenCountCache).
        var promptTokens = NeedsTokenCount(scopes) ? _counter.CountPrompt(request, model, caller) : (int)TokenCounter.EstimateFromCharacters(request.TextLength, model.Api);
        var maxOutput = request.Endpoint.Operation == ApiOperation.Embeddings ? 0 : request.MaxOutputTokens ?? agency.Limits.DefaultMaxOutputTokens;
        var estimate = promptTokens + (long)maxOutput;
        var estimatedCost = model.Pricing?.CostMicros(promptTokens, maxOutput) ?? 0;

        LimitCheck check;
        ILimitStore store = _store;
        try
        {
            check = await _store.ReserveAsync(scopes, estimate, estimatedCost, context.RequestAborted);
        }
        catch (LimitStoreUnavailableException)
        {
            if (!agency.Limits.FailOpen)
            {
                feature.Limits = new LimitOutcome("limits_unavailable", null, null, null, estimate);
                context.Response.Headers.RetryAfter = "5";
                await context.RejectAsync(new GatewayError(StatusCodes.Status503ServiceUnavailable, "limits_unavailable", "Rate limits cannot be checked right now; the agency's policy is to refuse until they can. Retry shortly."));
                return;
            }

            // Fail-open: this node enforces its share of every limit on its own until Redis answers again.
            Log.FallingBackToLocalLimits(_logger, caller.Agency);
            store = _fallback.Store;
            check = await store.ReserveAsync(LocalLimitFallback.Scale(scopes, agency.Limits.FailOpenShare), estimate, estimatedCost, context.RequestAborted);
        }

        var headroom = check.Headroom;
        context.Response.OnStarting(static state =>
        {
            var (response, headroom) = ((HttpResponse, LimitHeadroom))state;
            WriteHeaders(response.Headers, headroom);
            return Task.CompletedTask;
        }, (context.Response, headroom));

        if (!check.Allowed)
        {
            var budget = check.FailedMetric is LimitMetric.TokensPerDay or LimitMetric.TokensPerMonth or LimitMetric.CostPerDay or LimitMetric.CostPerMonth;
            var limitHit = $"{check.FailedScope}.{MetricName(check.FailedMetric!.Value)}";
            feature.Limits = new LimitOutcome(budget ? "budget_exhausted" : "rate_limited", limitHit, headroom.RemainingRequests, headroom.RemainingTokens, estimate);
            var seconds = Math.Max(1, (long)Math.Ceiling(check.RetryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await context.RejectAsync(budget
                ? new GatewayError(StatusCodes.Status429TooManyRequests, "budget_exhausted", $"The {Describe(check.FailedScope!)} {MetricDescription(check.FailedMetric.Value)} budget ({Format(check.FailedMetric.Value, check.FailedLimit)}) is used up; it renews in {seconds} s.")
                : new GatewayError(StatusCodes.Status429TooManyRequests, "rate_limit_exceeded", $"Rate limit reached: {Describe(check.FailedScope!)} {MetricDescription(check.FailedMetric.Value)} (limit {check.FailedLimit}). Retry after {seconds} s."));
            return;
        }

        feature.Limits = new LimitOutcome("allowed", null, headroom.RemainingRequests, headroom.RemainingTokens, estimate);
        try
        {
            await _next(context);
        }
        finally
        {
            var (tokens, cost) = Actual(feature, promptTokens, model);
            try
            {
                // Not the request's token: a client that left is still charged for what was produced. No timeout either
                // (it was a timer per request): neither store waits here — Redis sends the reconciliation with the slot's
                // next reservation or from a timer.
                await store.CommitAsync(check.Reservation!, tokens, cost, CancellationToken.None);
            }
            catch (LimitStoreUnavailableException)
            {
                // The reservation stands as the charge (it was an upper estimate).
                Log.CommitFailed(_logger, caller.Agency);
            }
        }
    }

    /// <summary>What the request really used: the provider's report, else what the client received, else nothing.</summary>
    private static (long Tokens, long Cost) Actual(GatewayRequestFeature feature, int promptTokens, ModelRoute model)
    {
        if (feature.Usage is { } usage)
        {
            return (usage.TotalTokens, model.Pricing?.CostMicros(usage.PromptTokens, usage.CompletionTokens, usage.CachedPromptTokens, usage.CacheCreationTokens) ?? 0);
        }

        if (feature.AnswerCharacters > 0)
        {
            var completion = TokenCounter.EstimateFromCharacters(feature.AnswerCharacters, model.Api);
            feature.Usage = new TokenUsage(promptTokens, completion);
            return (promptTokens + completion, model.Pricing?.CostMicros(promptTokens, completion) ?? 0);
        }

        // Refused upstream, failed before an answer, or an error status: providers do not bill those.
        return (0, 0);
    }

    internal static List<LimitScope> ScopesFor(Caller caller, AgencyPolicy agency, ModelRoute model, string? grantingRole)
    {
        var perCaller = agency.Limits.PerCaller;
        if (grantingRole is not null && agency.Roles.TryGetValue(grantingRole, out var role))
        {
            perCaller = perCaller.Tightest(role.PerCallerLimits);
        }

        if (agency.Limits.Callers.TryGetValue(caller.SubjectId, out var own))
        {
            perCaller = perCaller.Tightest(own);
        }

        var scopes = new List<LimitScope>(3)
        {
            new(ScopeKeys.ForCaller(agency.Name, caller.SubjectId), "caller", perCaller),
            new(ScopeKeys.ForAgency(agency.Name), "agency", agency.Limits.Agency),
        };
        if (!model.Limits.IsUnlimited)
        {
            scopes.Add(new(ScopeKeys.ForModel(model.Name), "model", model.Limits));
        }

        return scopes;
    }

    private static bool NeedsTokenCount(List<LimitScope> scopes)
    {
        foreach (var scope in scopes)
        {
            var l = scope.Limits;
            if (l.TokensPerMinute is not null || l.TokensPerDay is not null || l.TokensPerMonth is not null || l.CostMicrosPerDay is not null || l.CostMicrosPerMonth is not null)
            {
                return true;
            }
        }

        return false;
    }

    private static bool AllUnlimited(List<LimitScope> scopes)
    {
        foreach (var scope in scopes)
        {
            if (!scope.Limits.IsUnlimited)
            {
                return false;
            }
        }

        return true;
    }

    internal static void WriteHeaders(IHeaderDictionary headers, LimitHeadroom headroom)
    {
        WriteHeaders(headers, ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"), headroom.RequestLimit, headroom.RemainingRequests, headroom.ResetRequests);
        WriteHeaders(headers, ("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"), headroom.TokenLimit, headroom.RemainingTokens, headroom.ResetTokens);
    }

    /// <summary>The limit, remaining and reset headers of one unit, or none of them when no such limit applies.</summary>
    private static void WriteHeaders(IHeaderDictionary headers, (string Limit, string Remaining, string Reset) names, long? limit, long? remaining, TimeSpan reset)
    {
        if (limit is { } value)
        {
            headers[names.Limit] = value.ToString(CultureInfo.InvariantCulture);
            headers[names.Remaining] = remaining.GetValueOrDefault().ToString(CultureInfo.InvariantCulture);
            headers[names.Reset] = Duration(reset);
        }
        else
        {
            headers.Remove(names.Limit);
            headers.Remove(names.Remaining);
            headers.Remove(names.Reset);
        }
    }

    /// <summary>OpenAI's duration format: <c>1s</c>, <c>6m0s</c>.</summary>
    internal static string Duration(TimeSpan value)
    {
        var seconds = Math.Max(0, (long)Math.Ceiling(value.TotalSeconds));
        return seconds < 60 ? s_seconds[seconds] : $"{seconds / 60}m{seconds % 60}s";
    }

    /// <summary>"0s" … "59s": a window's reset is nearly always under a minute, and is written on every response.</summary>
    private static readonly string[] s_seconds = [.. Enumerable.Range(0, 60).Select(s => $"{s}s")];

    internal static string MetricName(LimitMetric metric) => metric switch
    {
        LimitMetric.RequestsPerMinute => "requests_per_minute",
        LimitMetric.TokensPerMinute => "tokens_per_minute",
        LimitMetric.ConcurrentRequests => "concurrent_requests",
        LimitMetric.TokensPerDay => "tokens_per_day",
        LimitMetric.TokensPerMonth => "tokens_per_month",
        LimitMetric.CostPerDay => "cost_per_day",
        _ => "cost_per_month",
    };

    private static string MetricDescription(LimitMetric metric) => metric switch
    {
        LimitMetric.RequestsPerMinute => "requests per minute",
        LimitMetric.TokensPerMinute => "tokens per minute",
        LimitMetric.ConcurrentRequests => "concurrent requests",
        LimitMetric.TokensPerDay => "daily token",
        LimitMetric.TokensPerMonth => "monthly token",
        LimitMetric.CostPerDay => "daily cost",
        _ => "monthly cost",
    };

    private static string Describe(string scope) => scope switch
    {
        "caller" => "your per-caller",
        "agency" => "your agency's",
        _ => "the model's",
    };

    private static string Format(LimitMetric metric, long? limit) => metric is LimitMetric.CostPerDay or LimitMetric.CostPerMonth
        ? (limit.GetValueOrDefault() / 1_000_000m).ToString("$0.00", CultureInfo.InvariantCulture)
        : $"{limit} tokens";

    private static partial class Log
    {
        [LoggerMessage(EventIds.LimitStoreFallback, LogLevel.Warning, "Limit store unavailable: agency {Agency} is fail-open, local limits apply.", EventName = "LimitStoreFallback")]
        public static partial void FallingBackToLocalLimits(ILogger logger, string agency);

        [LoggerMessage(EventIds.LimitCommitFailed, LogLevel.Warning, "Usage of a request of agency {Agency} could not be reconciled; its reservation stands.", EventName = "LimitCommitFailed")]
        public static partial void CommitFailed(ILogger logger, string agency);
    }
}

/// <summary>The in-process store a fail-open agency falls back to while the shared store is down.</summary>
internal sealed class LocalLimitFallback
{
    public LocalLimitFallback(TimeProvider time) => Store = new EmbeddedLimitStore(time);

    public ILimitStore Store { get; }

    public static List<LimitScope> Scale(IReadOnlyList<LimitScope> scopes, double share)
    {
        var scaled = new List<LimitScope>(scopes.Count);
        foreach (var scope in scopes)
        {
            scaled.Add(scope with { Limits = scope.Limits.Scale(share) });
        }

        return scaled;
    }
}
