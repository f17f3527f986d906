using AiGateway.Model;

namespace AiGateway.Scim;

/// <summary>
/// Caller stage, right after <see cref="Identity.CallerMiddleware"/>: applies the provisioned directory to the token's
/// caller. A deactivated or deleted user (or a disabled workload) is refused with 403 <c>caller_deprovisioned</c> even
/// though its token is still valid; in <c>directory-required</c> mode an unprovisioned user is refused with
/// <c>caller_not_provisioned</c>. Roles granted through SCIM groups (and a declared workload's roles) are merged into
/// <see cref="Caller.Roles"/>. After the answer it records the request's activity (last use, tokens) for access review.
/// </summary>
/// <remarks>
/// Matching contract: the token's subject (oid, else sub) equals a SCIM user's <c>externalId</c>, or the token's
/// UPN / preferred_username equals its <c>userName</c> (case-insensitive). With Redis the lookup is one script call
/// per request and no replica caches it, so revocation applies to the next request everywhere.
/// </remarks>
internal sealed partial class DirectoryMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IDirectoryStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<DirectoryMiddleware> _logger;

    public DirectoryMiddleware(RequestDelegate next, IDirectoryStore store, TimeProvider time, ILogger<DirectoryMiddleware> logger)
    {
        _next = next;
        _store = store;
        _time = time;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var caller = feature.Caller!;
        if (!feature.Config.Agencies.TryGetValue(caller.Agency, out var agency))
        {
            await _next(context);
            return;
        }

        var governance = agency.Governance;
        var tokenRoles = caller.Roles;
        List<string>? extraRoles = null;
        if (caller.Kind == CallerKind.Workload)
        {
            if (governance.Workloads.TryGetValue(caller.ClientAppId ?? caller.SubjectId, out var workload) || governance.Workloads.TryGetValue(caller.SubjectId, out workload))
            {
                if (workload.Disabled)
                {
                    await DenyAsync(context, "caller_deprovisioned", "This workload identity has been disabled by its agency.");
                    return;
                }

                extraRoles = [.. workload.Roles];
            }
            else if (governance.Mode == DirectoryMode.Required)
            {
                await DenyAsync(context, "workload_not_registered", "This workload identity is not registered with the agency (directory-required).");
                return;
            }
        }
        else if (governance.Mode != DirectoryMode.Off)
        {
            CallerDirectoryState state;
            try
            {
                state = await _store.LookupCallerAsync(agency.Name, caller.SubjectId, caller.UserName, context.RequestAborted);
            }
            catch (DirectoryUnavailableException ex)
            {
                // Without the directory nobody can tell a deprovisioned user from an active one: refuse.
                Log.DirectoryUnavailable(_logger, ex);
                await context.RejectAsync(new GatewayError(StatusCodes.Status503ServiceUnavailable, "directory_unavailable", "The identity directory is unavailable; retry shortly."));
                return;
            }

            switch (state.Status)
            {
                case DirectoryStatus.Inactive or DirectoryStatus.Deleted:
                    await DenyAsync(context, "caller_deprovisioned", "Your account has been deprovisioned by your agency; a still-valid token no longer grants access.");
                    return;
                case DirectoryStatus.Unknown when governance.Mode == DirectoryMode.Required:
                    await DenyAsync(context, "caller_not_provisioned", "Your account is not provisioned in this agency's directory.");
                    return;
            }

            foreach (var group in state.Groups)
            {
                if (governance.GroupRoles.TryGetValue(group.DisplayName, out var roles) || governance.GroupRoles.TryGetValue(group.Id, out roles))
                {
                    extraRoles ??= [];
                    extraRoles.AddRange(roles);
                }
            }
        }

        if (extraRoles is not null)
        {
            var merged = new List<string>(caller.Roles);
            foreach (var role in extraRoles)
            {
                if (!merged.Contains(role, StringComparer.Ordinal))
                {
                    merged.Add(role);
                }
            }

            feature.Caller = caller with { Roles = merged };
        }

        try
        {
            await _next(context);
        }
        finally
        {
            Record(context, feature, tokenRoles);
        }
    }

    /// <param name="tokenRoles">The roles the token itself carried (directory and workload-config roles are derived again at review time).</param>
    private void Record(HttpContext context, GatewayRequestFeature feature, IReadOnlyList<string> tokenRoles)
    {
        if (feature.Model is null || feature.Caller is not { } caller)
        {
            return; // only model requests count as use
        }

        string? blocked = null;
        if (feature.PromptInspection is { Decision: Inspection.MarkingDecision.Blocked, HighestLevel: { } level })
        {
            blocked = Entitlements.ModelsEndpoint.CeilingName(level);
        }
        else if (feature.AnswerInspection is { Decision: Inspection.MarkingDecision.Blocked, HighestLevel: { } answerLevel })
        {
            blocked = Entitlements.ModelsEndpoint.CeilingName(answerLevel);
        }

        var allowed = feature.DenialCode is null && context.Response.StatusCode < 400;
        _store.RecordActivity(caller.Agency, new ActivityRecord(
            caller.SubjectId, caller.Kind, caller.UserName, caller.ClientAppId, feature.Model.Name, tokenRoles,
            feature.Usage?.TotalTokens ?? 0, _time.GetUtcNow(), allowed, feature.DenialCode, blocked));
    }

    private static Task DenyAsync(HttpContext context, string code, string message) =>
        context.RejectAsync(new GatewayError(StatusCodes.Status403Forbidden, code, message));

    private static partial class Log
    {
        [LoggerMessage(EventIds.DirectoryLookupFailed, LogLevel.Warning, "The directory store is unavailable; request refused.", EventName = "DirectoryLookupFailed")]
        public static partial void DirectoryUnavailable(ILogger logger, Exception exception);
    }
}
