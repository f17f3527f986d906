namespace AiGateway;

/// <summary>Every log event id of the gateway, unique in one place (ranges by stage).</summary>
internal static class EventIds
{
    // 1xxx configuration
    public const int ConfigLoaded = 1001;
    public const int ConfigReloadRejected = 1002;
    public const int ConfigReloadFailed = 1003;
    public const int EmbeddedSimulatorStarted = 1004;

    // 2xxx identity
    public const int AuthenticationFailed = 2001;
    public const int DevIssuerKeyCreated = 2002;
    public const int IdentityProvidersChanged = 2003;

    // 3xxx parsing
    public const int RequestRejected = 3001;

    // 7xxx forwarding
    public const int UpstreamAttemptFailed = 7001;
    public const int UpstreamParked = 7002;
    public const int UpstreamFailedAfterStart = 7003;

    // 9xxx pipeline
    public const int UnhandledException = 9001;
}
