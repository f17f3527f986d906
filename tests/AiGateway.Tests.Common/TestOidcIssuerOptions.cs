namespace AiGateway.Tests.Common;

/// <summary>Options for <see cref="TestOidcIssuer.StartAsync(TestOidcIssuerOptions?)"/>.</summary>
public sealed record TestOidcIssuerOptions
{
    /// <summary>The directory tenant id (Entra shapes put it in the issuer and in <c>tid</c>). Default: a new GUID.</summary>
    public string TenantId { get; init; } = Guid.NewGuid().ToString();

    /// <summary>Which provider to imitate. Default: <see cref="TokenShape.EntraV2"/>.</summary>
    public TokenShape Shape { get; init; } = TokenShape.EntraV2;

    /// <summary>The default audience of issued tokens. Default: <c>api://aigateway</c>.</summary>
    public string Audience { get; init; } = JwtBuilder.DefaultAudience;

    /// <summary>
    /// The client application (<c>azp</c> / <c>appid</c>) that user tokens were requested by. Default: a new GUID.
    /// </summary>
    public string ClientAppId { get; init; } = Guid.NewGuid().ToString();

    /// <summary>The clock for <c>iat</c>/<c>nbf</c>/<c>exp</c> of issued tokens (e.g. a <c>FakeTimeProvider</c>). Default: system time.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
