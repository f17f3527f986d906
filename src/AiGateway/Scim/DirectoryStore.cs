namespace AiGateway.Scim;

/// <summary>A provisioned user. <see cref="Json"/> holds the client-managed SCIM attributes (no id, meta or groups).</summary>
internal sealed record DirectoryUser(string Id, string UserName, string? ExternalId, bool Active, string Json, long Version, DateTimeOffset Created, DateTimeOffset LastModified);

/// <summary>A group member: a user id and the display text the provisioning client sent.</summary>
internal sealed record GroupMember(string Value, string? Display);

/// <summary>A provisioned group. <see cref="Json"/> holds the client-managed attributes except members.</summary>
internal sealed record DirectoryGroup(string Id, string DisplayName, string? ExternalId, IReadOnlyList<GroupMember> Members, string Json, long Version, DateTimeOffset Created, DateTimeOffset LastModified);

/// <summary>A group as the hot path needs it.</summary>
internal readonly record struct GroupRef(string Id, string DisplayName);

/// <summary>What the directory knows about a token's subject.</summary>
internal enum DirectoryStatus
{
    Unknown,
    Active,
    Inactive,
    Deleted,
}

internal sealed record CallerDirectoryState(DirectoryStatus Status, string? UserId, IReadOnlyList<GroupRef> Groups)
{
    public static CallerDirectoryState Unknown { get; } = new(DirectoryStatus.Unknown, null, []);

    public static CallerDirectoryState Deleted { get; } = new(DirectoryStatus.Deleted, null, []);
}

/// <summary>Outcome of a directory write.</summary>
internal enum WriteStatus
{
    Ok,
    NotFound,

    /// <summary>Another resource already holds the unique attribute (userName, externalId, displayName).</summary>
    Conflict,

    /// <summary>If-Match named another version.</summary>
    VersionMismatch,
}

internal readonly record struct WriteResult(WriteStatus Status, long Version = 0, DateTimeOffset Created = default, string? ConflictAttribute = null);

/// <summary>Which unique attribute a lookup uses.</summary>
internal enum LookupKey
{
    UserName,
    ExternalId,
    DisplayName,
}

/// <summary>One model request as governance records it (never any text).</summary>
internal sealed record ActivityRecord(
    string SubjectId,
    Model.CallerKind Kind,
    string? UserName,
    string? ClientAppId,
    string? Model,
    IReadOnlyList<string> Roles,
    long Tokens,
    DateTimeOffset At,
    bool Allowed,
    string? DenialCode,
    string? BlockedLevel);

/// <summary>What the store knows about one subject's use of the gateway.</summary>
internal sealed record SubjectActivity(
    string SubjectId,
    Model.CallerKind Kind,
    string? UserName,
    string? ClientAppId,
    IReadOnlyList<string> LastRoles,
    DateTimeOffset LastUse,
    IReadOnlyDictionary<string, DateTimeOffset> LastUseByModel,
    IReadOnlyDictionary<int, long> TokensByDay,
    IReadOnlyDictionary<int, long> RequestsByDay);

/// <summary>One UTC day of an agency's traffic.</summary>
internal sealed record DailyUsage(int Day, long Requests, long Tokens, long Blocked);

/// <summary>A deprovisioning or block event for the governance page.</summary>
internal sealed record GovernanceEvent(DateTimeOffset At, string Kind, string Subject, string Detail);

/// <summary>The event lists the store keeps (bounded, newest first).</summary>
internal enum EventStream
{
    Deprovisioning,
    Blocks,
}

/// <summary>
/// The provisioned directory (users, groups, memberships) and the activity governance reviews. Redis when
/// replicas share state, else the embedded single-node store persisted under the data directory.
/// </summary>
internal interface IDirectoryStore
{
    Task<DirectoryUser?> GetUserAsync(string agency, string id, CancellationToken cancel);

    Task<string?> FindUserIdAsync(string agency, LookupKey key, string value, CancellationToken cancel);

    Task<IReadOnlyList<DirectoryUser>> ListUsersAsync(string agency, CancellationToken cancel);

    /// <summary>Creates (<paramref name="create"/>) or replaces a user, keeping userName and externalId unique.</summary>
    Task<WriteResult> PutUserAsync(string agency, DirectoryUser user, bool create, long? expectedVersion, CancellationToken cancel);

    Task<WriteResult> DeleteUserAsync(string agency, string id, long? expectedVersion, CancellationToken cancel);

    Task<DirectoryGroup?> GetGroupAsync(string agency, string id, CancellationToken cancel);

    Task<string?> FindGroupIdAsync(string agency, LookupKey key, string value, CancellationToken cancel);

    Task<IReadOnlyList<DirectoryGroup>> ListGroupsAsync(string agency, CancellationToken cancel);

    Task<WriteResult> PutGroupAsync(string agency, DirectoryGroup group, bool create, long? expectedVersion, CancellationToken cancel);

    Task<WriteResult> DeleteGroupAsync(string agency, string id, long? expectedVersion, CancellationToken cancel);

    Task<IReadOnlyList<GroupRef>> GroupsOfUserAsync(string agency, string userId, CancellationToken cancel);

    /// <summary>Hot path: the subject's status and groups, matched by externalId = subject, else userName = token user name.</summary>
    Task<CallerDirectoryState> LookupCallerAsync(string agency, string subjectId, string? userName, CancellationToken cancel);

    /// <summary>Records one request; never waits for the store and never throws.</summary>
    void RecordActivity(string agency, ActivityRecord record);

    Task<IReadOnlyList<SubjectActivity>> ReadActivityAsync(string agency, CancellationToken cancel);

    Task<IReadOnlyList<DailyUsage>> ReadDailyUsageAsync(string agency, int fromDay, int toDay, CancellationToken cancel);

    Task AppendEventAsync(string agency, EventStream stream, GovernanceEvent value, CancellationToken cancel);

    Task<IReadOnlyList<GovernanceEvent>> ReadEventsAsync(string agency, EventStream stream, int max, CancellationToken cancel);
}

/// <summary>The directory store could not be reached.</summary>
internal sealed class DirectoryUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

internal static class DirectoryDays
{
    /// <summary>Days since the Unix epoch (UTC).</summary>
    public static int Of(DateTimeOffset at) => (int)(at.ToUnixTimeSeconds() / 86400);

    public static DateTimeOffset Start(int day) => DateTimeOffset.FromUnixTimeSeconds(day * 86400L);
}
