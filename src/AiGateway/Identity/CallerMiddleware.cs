using AiGateway.Model;
using Microsoft.AspNetCore.Authentication;

namespace AiGateway.Identity;

/// <summary>
/// Stage 1–2: authenticates the bearer token and resolves the <see cref="Caller"/>. Every model request
/// needs one; a missing or invalid token is refused with 401 and a <c>WWW-Authenticate</c> challenge.
/// </summary>
internal sealed partial class CallerMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IssuerDirectory _issuers;
    private readonly ILogger<CallerMiddleware> _logger;

    public CallerMiddleware(RequestDelegate next, IssuerDirectory issuers, ILogger<CallerMiddleware> logger)
    {
        _next = next;
        _issuers = issuers;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var result = await context.AuthenticateAsync(GatewayAuthentication.SchemeName);
        var caller = result.Succeeded ? CallerResolver.Resolve(result.Principal, feature.Config, _issuers) : null;
        if (caller is null)
        {
            var hasToken = GatewayAuthentication.GetBearerToken(context.Request) is not null;
            Log.AuthenticationFailed(_logger, hasToken ? "invalid token" : "no bearer token", result.Failure?.GetType().Name);
            context.Response.Headers.WWWAuthenticate = hasToken
                ? "Bearer realm=\"aigateway\", error=\"invalid_token\", error_description=\"The access token is invalid, expired or from an untrusted issuer.\""
                : "Bearer realm=\"aigateway\", error=\"invalid_token\", error_description=\"No bearer token was sent.\"";
            await context.RejectAsync(hasToken
                ? new GatewayError(StatusCodes.Status401Unauthorized, "invalid_token", "The access token is invalid, expired or not issued by an issuer this gateway trusts.")
                : new GatewayError(StatusCodes.Status401Unauthorized, "missing_token", "A bearer token is required (Authorization: Bearer <token>)."));
            return;
        }

        feature.Caller = caller;
        context.User = result.Principal!;
        await _next(context);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.AuthenticationFailed, LogLevel.Information, "Request refused: {Reason} ({Failure}).", EventName = "AuthenticationFailed")]
        public static partial void AuthenticationFailed(ILogger logger, string reason, string? failure);
    }
}
