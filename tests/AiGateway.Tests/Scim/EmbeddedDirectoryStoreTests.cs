using AiGateway.Scim;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Scim;

public sealed class EmbeddedDirectoryStoreTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "aigw-dirstore-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-03-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private DirectoryUser User(string id, string userName, string? externalId = null, bool active = true) =>
        new(id, userName, externalId, active, $$"""{"userName":"{{userName}}"}""", 0, _time.GetUtcNow(), _time.GetUtcNow());

    private static DirectoryGroup Group(string id, string name, params string[] members) =>
        new(id, name, null, members.Select(m => new GroupMember(m, null)).ToList(), $$"""{"displayName":"{{name}}"}""", 0, default, default);

    [Fact]
    public async Task User_names_are_unique_ignoring_case_and_external_ids_exactly()
    {
        using var store = new EmbeddedDirectoryStore(null, _time);
        Assert.Equal(WriteStatus.Ok, (await store.PutUserAsync("a", User("1", "Kim@agency.gov", "ext-1"), true, null, default)).Status);
        var clash = await store.PutUserAsync("a", User("2", "kim@AGENCY.gov"), true, null, default);
        Assert.Equal((WriteStatus.Conflict, "userName"), (clash.Status, clash.ConflictAttribute));
        Assert.Equal(WriteStatus.Conflict, (await store.PutUserAsync("a", User("3", "x@agency.gov", "ext-1"), true, null, default)).Status);
        Assert.Equal(WriteStatus.Ok, (await store.PutUserAsync("a", User("3", "x@agency.gov", "EXT-1"), true, null, default)).Status);

        // Another agency is another directory.
        Assert.Equal(WriteStatus.Ok, (await store.PutUserAsync("b", User("9", "kim@agency.gov", "ext-1"), true, null, default)).Status);
        Assert.Equal(WriteStatus.VersionMismatch, (await store.PutUserAsync("a", User("1", "kim@agency.gov"), false, 5, default)).Status);
        Assert.Equal(2, (await store.PutUserAsync("a", User("1", "kim@agency.gov"), false, 1, default)).Version);
    }

    [Fact]
    public async Task Lookup_matches_external_id_then_user_name_and_remembers_deletions()
    {
        using var store = new EmbeddedDirectoryStore(null, _time);
        await store.PutUserAsync("a", User("1", "kim@agency.gov", "oid-1"), true, null, default);
        await store.PutGroupAsync("a", Group("g1", "AI Engineers", "1"), true, null, default);

        var byOid = await store.LookupCallerAsync("a", "oid-1", null, default);
        Assert.Equal(DirectoryStatus.Active, byOid.Status);
        Assert.Equal("AI Engineers", Assert.Single(byOid.Groups).DisplayName);
        Assert.Equal(DirectoryStatus.Active, (await store.LookupCallerAsync("a", "other-sub", "KIM@agency.gov", default)).Status);
        Assert.Equal(DirectoryStatus.Unknown, (await store.LookupCallerAsync("a", "other-sub", "lee@agency.gov", default)).Status);

        await store.DeleteUserAsync("a", "1", null, default);
        Assert.Equal(DirectoryStatus.Deleted, (await store.LookupCallerAsync("a", "oid-1", null, default)).Status);
        Assert.Equal(DirectoryStatus.Deleted, (await store.LookupCallerAsync("a", "x", "kim@agency.gov", default)).Status);
        Assert.Empty((await store.GetGroupAsync("a", "g1", default))!.Members);
    }

    [Fact]
    public async Task The_log_restores_users_groups_tombstones_and_events_after_restart()
    {
        using (var store = new EmbeddedDirectoryStore(_data, _time))
        {
            await store.PutUserAsync("a", User("1", "kim@agency.gov", "oid-1"), true, null, default);
            await store.PutUserAsync("a", User("1", "kim@agency.gov", "oid-1", active: false), false, null, default);
            await store.PutUserAsync("a", User("2", "lee@agency.gov", "oid-2"), true, null, default);
            await store.PutGroupAsync("a", Group("g1", "AI Engineers", "2"), true, null, default);
            await store.DeleteUserAsync("a", "2", null, default);
            await store.AppendEventAsync("a", EventStream.Deprovisioning, new GovernanceEvent(_time.GetUtcNow(), "deleted", "lee@agency.gov", "x"), default);
        }

        // A crash mid-append leaves a torn last line: it was never acknowledged and is skipped.
        await File.AppendAllTextAsync(Path.Combine(_data, "directory", "directory.log"), "{\"op\":\"putUser\",\"agen");

        using var reopened = new EmbeddedDirectoryStore(_data, _time);
        var kim = await reopened.GetUserAsync("a", "1", default);
        Assert.False(kim!.Active);
        Assert.Equal(2, kim.Version);
        Assert.Equal(DirectoryStatus.Inactive, (await reopened.LookupCallerAsync("a", "oid-1", null, default)).Status);
        Assert.Equal(DirectoryStatus.Deleted, (await reopened.LookupCallerAsync("a", "oid-2", null, default)).Status);
        Assert.Empty((await reopened.GetGroupAsync("a", "g1", default))!.Members);
        Assert.Equal("lee@agency.gov", Assert.Single(await reopened.ReadEventsAsync("a", EventStream.Deprovisioning, 10, default)).Subject);
        Assert.Single(await reopened.ListUsersAsync("a", default));
    }

    [Fact]
    public async Task Activity_is_snapshotted_at_shutdown_and_read_back()
    {
        using (var store = new EmbeddedDirectoryStore(_data, _time))
        {
            store.RecordActivity("a", new ActivityRecord("sub-1", AiGateway.Model.CallerKind.Person, "kim@agency.gov", null, "gpt-4o-mini", ["analyst"], 120, _time.GetUtcNow(), true, null, null));
            store.RecordActivity("a", new ActivityRecord("sub-1", AiGateway.Model.CallerKind.Person, "kim@agency.gov", null, "gpt-4o-mini", ["analyst"], 0, _time.GetUtcNow(), false, "prompt_blocked", "CUI"));
        }

        using var reopened = new EmbeddedDirectoryStore(_data, _time);
        var activity = Assert.Single(await reopened.ReadActivityAsync("a", default));
        Assert.Equal(120, activity.TokensByDay.Values.Sum());
        Assert.Equal(2, activity.RequestsByDay.Values.Sum());
        Assert.Equal("CUI", Assert.Single(await reopened.ReadEventsAsync("a", EventStream.Blocks, 10, default)).Kind);
        var day = DirectoryDays.Of(_time.GetUtcNow());
        Assert.Equal(new DailyUsage(day, 2, 120, 1), Assert.Single(await reopened.ReadDailyUsageAsync("a", day, day, default)));
    }
}
