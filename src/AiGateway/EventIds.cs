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
    public const int IdentityProvidersChanged = 2003;

    // 5xxx rate limiting
    public const int LimitStoreFailed = 5001;
    public const int LimitStoreRecovered = 5002;
    public const int LimitStoreFallback = 5003;
    public const int LimitCommitFailed = 5004;
    public const int LimitStoreCallFailed = 5005;

    // 6xxx audit
    public const int AuditEventRecorded = 6001;
    public const int AuditJournalOpened = 6002;
    public const int AuditJournalUnavailable = 6003;
    public const int AuditJournalRecovered = 6004;
    public const int AuditJournalWriteFailed = 6005;
    public const int AuditEventDropped = 6006;
    public const int AuditEventsLost = 6007;
    public const int AuditRefused = 6008;
    public const int AuditServedWithoutRecord = 6009;
    public const int AuditSigningKeyCreated = 6010;
    public const int AuditWriterFailed = 6011;

    // 7xxx forwarding
    public const int UpstreamAttemptFailed = 7001;
    public const int UpstreamParked = 7002;
    public const int UpstreamFailedAfterStart = 7003;

    // 8xxx identity lifecycle and governance (SCIM, directory, access review)
    public const int ScimTokenGenerated = 8001;
    public const int ScimChange = 8002;
    public const int CallerDeprovisioned = 8003;
    public const int DirectoryUnavailable = 8004;
    public const int DirectoryLookupFailed = 8005;

    // 9xxx pipeline
    public const int UnhandledException = 9001;
}
