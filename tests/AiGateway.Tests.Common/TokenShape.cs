namespace AiGateway.Tests.Common;

/// <summary>Which identity provider a <see cref="TestOidcIssuer"/> and its tokens imitate.</summary>
public enum TokenShape
{
    /// <summary>
    /// Microsoft Entra ID v2.0 endpoint: issuer <c>{base}/{tenant}/v2.0</c>, claims <c>oid</c>, <c>tid</c>,
    /// <c>azp</c>, <c>scp</c>, <c>roles</c>, <c>groups</c>, <c>preferred_username</c>, <c>ver: "2.0"</c>,
    /// <c>idtyp: "app"</c> on app-only tokens.
    /// </summary>
    EntraV2,

    /// <summary>
    /// Microsoft Entra ID v1.0 (sts.windows.net-style) tokens: issuer <c>{base}/{tenant}/</c>, claims
    /// <c>oid</c>, <c>tid</c>, <c>appid</c>, <c>upn</c>, <c>unique_name</c>, <c>ver: "1.0"</c>.
    /// </summary>
    EntraV1,

    /// <summary>A plain OpenID Connect provider: issuer <c>{base}/oidc</c>, claims <c>sub</c>, <c>email</c>; no Entra claims.</summary>
    GenericOidc,
}
