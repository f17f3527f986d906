using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiGateway.Scim;

/// <summary>
/// The single-node directory: in memory, made durable by an append-only log (<c>directory.log</c>, one JSON line per
/// change, flushed to disk before the SCIM answer) replayed at start-up and compacted into a fresh log (written aside,
/// then renamed over) when it has grown to several times the live data. Activity is kept in memory and snapshotted
/// atomically to <c>activity.json</c> every 30 s and at shutdown: losing the last seconds of "last use" is acceptable,
/// losing a deprovisioning is not.
/// </summary>
internal sealed class EmbeddedDirectoryStore : IDirectoryStore, IDisposable
{
    private const int MaxEvents = 500;
    private const int MaxBlocks = 200;
    private const int KeptDays = 400;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly Dictionary<string, AgencyDirectory> _agencies = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly string? _directory;
    private readonly TimeProvider _time;
    private readonly ITimer? _flushTimer;
    private FileStream? _log;
    private long _logLines;
    private bool _activityDirty;

    /// <param name="dataDirectory">Where the log and snapshot live; null keeps everything in memory (unit tests).</param>
    public EmbeddedDirectoryStore(string? dataDirectory, TimeProvider time)
    {
        _time = time;
        if (dataDirectory is null)
        {
            return;
        }

        _directory = Path.Combine(dataDirectory, "directory");
        Directory.CreateDirectory(_directory);
        Replay();
        LoadActivity();
        _flushTimer = time.CreateTimer(_ => FlushActivity(), null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
    }

    private string LogPath => Path.Combine(_directory!, "directory.log");

    private string ActivityPath => Path.Combine(_directory!, "activity.json");

    public Task<DirectoryUser?> GetUserAsync(string agency, string id, CancellationToken cancel)
    {
        lock (_gate)
        {
            return Task.FromResult(Agency(agency).Users.GetValueOrDefault(id));
        }
    }

    public Task<string?> FindUserIdAsync(string agency, LookupKey key, string value, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            var index = key == LookupKey.ExternalId ? a.UsersByExternalId : a.UsersByUserName;
            return Task.FromResult(index.GetValueOrDefault(value));
        }
    }

    public Task<IReadOnlyList<DirectoryUser>> ListUsersAsync(string agency, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            var list = new List<DirectoryUser>(a.UserOrder.Count);
            foreach (var id in a.UserOrder)
            {
                list.Add(a.Users[id]);
            }

            return Task.FromResult<IReadOnlyList<DirectoryUser>>(list);
        }
    }

    public Task<WriteResult> PutUserAsync(string agency, DirectoryUser user, bool create, long? expectedVersion, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            var exists = a.Users.TryGetValue(user.Id, out var old);
            if (create == exists)
            {
                return Task.FromResult(new WriteResult(create ? WriteStatus.Conflict : WriteStatus.NotFound, ConflictAttribute: "id"));
            }

            if (a.UsersByUserName.TryGetValue(user.UserName, out var holder) && holder != user.Id)
            {
                return Task.FromResult(new WriteResult(WriteStatus.Conflict, ConflictAttribute: "userName"));
            }

            if (user.ExternalId is not null && a.UsersByExternalId.TryGetValue(user.ExternalId, out holder) && holder != user.Id)
            {
                return Task.FromResult(new WriteResult(WriteStatus.Conflict, ConflictAttribute: "externalId"));
            }

            if (old is not null && expectedVersion is { } expected && expected != old.Version)
            {
                return Task.FromResult(new WriteResult(WriteStatus.VersionMismatch));
            }

            var stored = user with { Version = (old?.Version ?? 0) + 1, Created = old?.Created ?? user.Created };
            Append(new LogEntry { Op = "putUser", Agency = agency, User = stored });
            a.ApplyPutUser(stored);
            return Task.FromResult(new WriteResult(WriteStatus.Ok, stored.Version, stored.Created));
        }
    }

    public Task<WriteResult> DeleteUserAsync(string agency, string id, long? expectedVersion, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            if (!a.Users.TryGetValue(id, out var old))
            {
                return Task.FromResult(new WriteResult(WriteStatus.NotFound));
            }

            if (expectedVersion is { } expected && expected != old.Version)
            {
                return Task.FromResult(new WriteResult(WriteStatus.VersionMismatch));
            }

            Append(new LogEntry { Op = "deleteUser", Agency = agency, Id = id });
            a.ApplyDeleteUser(id);
            return Task.FromResult(new WriteResult(WriteStatus.Ok));
        }
    }

    public Task<DirectoryGroup?> GetGroupAsync(string agency, string id, CancellationToken cancel)
    {
        lock (_gate)
        {
            return Task.FromResult(Agency(agency).Groups.GetValueOrDefault(id));
        }
    }

    public Task<string?> FindGroupIdAsync(string agency, LookupKey key, string value, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            var index = key == LookupKey.ExternalId ? a.GroupsByExternalId : a.GroupsByName;
            return Task.FromResult(index.GetValueOrDefault(value));
        }
    }

    public Task<IReadOnlyList<DirectoryGroup>> ListGroupsAsync(string agency, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            var list = new List<DirectoryGroup>(a.GroupOrder.Count);
            foreach (var id in a.GroupOrder)
            {
                list.Add(a.Groups[id]);
            }

            return Task.FromResult<IReadOnlyList<DirectoryGroup>>(list);
        }
    }

    public Task<WriteResult> PutGroupAsync(string agency, DirectoryGroup group, bool create, long? expectedVersion, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            var exists = a.Groups.TryGetValue(group.Id, out var old);
            if (create == exists)
            {
                return Task.FromResult(new WriteResult(create ? WriteStatus.Conflict : WriteStatus.NotFound, ConflictAttribute: "id"));
            }

            if (a.GroupsByName.TryGetValue(group.DisplayName, out var holder) && holder != group.Id)
            {
                return Task.FromResult(new WriteResult(WriteStatus.Conflict, ConflictAttribute: "displayName"));
            }

            if (group.ExternalId is not null && a.GroupsByExternalId.TryGetValue(group.ExternalId, out holder) && holder != group.Id)
            {
                return Task.FromResult(new WriteResult(WriteStatus.Conflict, ConflictAttribute: "externalId"));
            }

            if (old is not null && expectedVersion is { } expected && expected != old.Version)
            {
                return Task.FromResult(new WriteResult(WriteStatus.VersionMismatch));
            }

            var stored = group with { Version = (old?.Version ?? 0) + 1, Created = old?.Created ?? group.Created };
            Append(new LogEntry { Op = "putGroup", Agency = agency, Group = stored });
            a.ApplyPutGroup(stored);
            return Task.FromResult(new WriteResult(WriteStatus.Ok, stored.Version, stored.Created));
        }
    }

    public Task<WriteResult> DeleteGroupAsync(string agency, string id, long? expectedVersion, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            if (!a.Groups.TryGetValue(id, out var old))
            {
                return Task.FromResult(new WriteResult(WriteStatus.NotFound));
            }

            if (expectedVersion is { } expected && expected != old.Version)
            {
                return Task.FromResult(new WriteResult(WriteStatus.VersionMismatch));
            }

            Append(new LogEntry { Op = "deleteGroup", Agency = agency, Id = id });
            a.ApplyDeleteGroup(id);
            return Task.FromResult(new WriteResult(WriteStatus.Ok));
        }
    }

    public Task<IReadOnlyList<GroupRef>> GroupsOfUserAsync(string agency, string userId, CancellationToken cancel)
    {
        lock (_gate)
        {
            return Task.FromResult(Agency(agency).GroupsOf(userId));
        }
    }

    public Task<CallerDirectoryState> LookupCallerAsync(string agency, string subjectId, string? userName, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            if (!a.UsersByExternalId.TryGetValue(subjectId, out var id) && (userName is null || !a.UsersByUserName.TryGetValue(userName, out id)))
            {
                var deleted = a.Tombstones.Contains("ext:" + subjectId) || (userName is not null && a.Tombstones.Contains("un:" + userName.ToUpperInvariant()));
                return Task.FromResult(deleted ? CallerDirectoryState.Deleted : CallerDirectoryState.Unknown);
            }

            var user = a.Users[id];
            return Task.FromResult(new CallerDirectoryState(user.Active ? DirectoryStatus.Active : DirectoryStatus.Inactive, id, a.GroupsOf(id)));
        }
    }

    public void RecordActivity(string agency, ActivityRecord record)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            if (!a.Activity.TryGetValue(record.SubjectId, out var entry))
            {
                entry = new ActivityEntry { SubjectId = record.SubjectId };
                a.Activity[record.SubjectId] = entry;
            }

            var day = DirectoryDays.Of(record.At);
            entry.Kind = record.Kind;
            entry.UserName = record.UserName ?? entry.UserName;
            entry.ClientAppId = record.ClientAppId ?? entry.ClientAppId;
            entry.LastRoles = [.. record.Roles];
            entry.LastUse = record.At > entry.LastUse ? record.At : entry.LastUse;
            if (record.Allowed && record.Model is not null)
            {
                entry.LastUseByModel[record.Model] = record.At;
            }

            entry.TokensByDay[day] = entry.TokensByDay.GetValueOrDefault(day) + record.Tokens;
            entry.RequestsByDay[day] = entry.RequestsByDay.GetValueOrDefault(day) + 1;
            entry.TokensByDay.Remove(day - KeptDays);
            entry.RequestsByDay.Remove(day - KeptDays);

            var daily = a.Daily.TryGetValue(day, out var d) ? d : new DailyUsage(day, 0, 0, 0);
            a.Daily[day] = daily with { Requests = daily.Requests + 1, Tokens = daily.Tokens + record.Tokens, Blocked = daily.Blocked + (record.Allowed ? 0 : 1) };
            a.Daily.Remove(day - KeptDays);
            if (record.BlockedLevel is not null)
            {
                a.Blocks.Insert(0, new GovernanceEvent(record.At, record.BlockedLevel, record.SubjectId, record.Model ?? string.Empty));
                if (a.Blocks.Count > MaxBlocks)
                {
                    a.Blocks.RemoveAt(a.Blocks.Count - 1);
                }
            }

            _activityDirty = true;
        }
    }

    public Task<IReadOnlyList<SubjectActivity>> ReadActivityAsync(string agency, CancellationToken cancel)
    {
        lock (_gate)
        {
            var list = new List<SubjectActivity>();
            foreach (var e in Agency(agency).Activity.Values)
            {
                list.Add(e.ToActivity());
            }

            return Task.FromResult<IReadOnlyList<SubjectActivity>>(list);
        }
    }

    public Task<IReadOnlyList<DailyUsage>> ReadDailyUsageAsync(string agency, int fromDay, int toDay, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            var list = new List<DailyUsage>();
            for (var day = fromDay; day <= toDay; day++)
            {
                list.Add(a.Daily.TryGetValue(day, out var d) ? d : new DailyUsage(day, 0, 0, 0));
            }

            return Task.FromResult<IReadOnlyList<DailyUsage>>(list);
        }
    }

    public Task AppendEventAsync(string agency, EventStream stream, GovernanceEvent value, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            if (stream == EventStream.Deprovisioning)
            {
                Append(new LogEntry { Op = "event", Agency = agency, Event = value });
                a.AddEvent(value, MaxEvents);
            }
            else
            {
                a.Blocks.Insert(0, value);
                if (a.Blocks.Count > MaxBlocks)
                {
                    a.Blocks.RemoveAt(a.Blocks.Count - 1);
                }

                _activityDirty = true;
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<GovernanceEvent>> ReadEventsAsync(string agency, EventStream stream, int max, CancellationToken cancel)
    {
        lock (_gate)
        {
            var a = Agency(agency);
            var source = stream == EventStream.Deprovisioning ? a.Events : a.Blocks;
            return Task.FromResult<IReadOnlyList<GovernanceEvent>>(source.Take(max).ToList());
        }
    }

    public void Dispose()
    {
        _flushTimer?.Dispose();
        FlushActivity();
        lock (_gate)
        {
            _log?.Dispose();
            _log = null;
        }
    }

    private AgencyDirectory Agency(string agency)
    {
        if (!_agencies.TryGetValue(agency, out var a))
        {
            a = new AgencyDirectory();
            _agencies[agency] = a;
        }

        return a;
    }

    /// <summary>Writes one change durably (flushed to the device) before it is applied and answered. Caller holds the lock.</summary>
    private void Append(LogEntry entry)
    {
        if (_directory is null)
        {
            return;
        }

        try
        {
            _log ??= new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.Read);
            var line = JsonSerializer.SerializeToUtf8Bytes(entry, s_json);
            _log.Write(line);
            _log.WriteByte((byte)'\n');
            _log.Flush(flushToDisk: true);
            _logLines++;
        }
        catch (IOException ex)
        {
            throw new DirectoryUnavailableException("The directory log cannot be written.", ex);
        }
    }

    private void Replay()
    {
        if (File.Exists(LogPath))
        {
            foreach (var line in File.ReadLines(LogPath))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                LogEntry? entry;
                try
                {
                    entry = JsonSerializer.Deserialize<LogEntry>(line, s_json);
                }
                catch (JsonException)
                {
                    continue; // a torn last line after a crash: the change was never answered
                }

                if (entry?.Agency is null)
                {
                    continue;
                }

                _logLines++;
                var a = Agency(entry.Agency);
                switch (entry.Op)
                {
                    case "putUser" when entry.User is not null:
                        a.ApplyPutUser(entry.User);
                        break;
                    case "deleteUser" when entry.Id is not null:
                        a.ApplyDeleteUser(entry.Id);
                        break;
                    case "putGroup" when entry.Group is not null:
                        a.ApplyPutGroup(entry.Group);
                        break;
                    case "deleteGroup" when entry.Id is not null:
                        a.ApplyDeleteGroup(entry.Id);
                        break;
                    case "event" when entry.Event is not null:
                        a.AddEvent(entry.Event, MaxEvents);
                        break;
                }
            }
        }

        var live = 0L;
        foreach (var a in _agencies.Values)
        {
            live += a.Users.Count + a.Groups.Count + a.Events.Count + a.Tombstones.Count;
        }

        if (_logLines > 1000 && _logLines > 4 * live)
        {
            Compact();
        }
    }

    private void Compact()
    {
        var temp = LogPath + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            void Write(LogEntry e)
            {
                stream.Write(JsonSerializer.SerializeToUtf8Bytes(e, s_json));
                stream.WriteByte((byte)'\n');
            }

            foreach (var (name, a) in _agencies)
            {
                foreach (var tomb in a.TombstoneUsers)
                {
                    Write(new LogEntry { Op = "putUser", Agency = name, User = tomb });
                    Write(new LogEntry { Op = "deleteUser", Agency = name, Id = tomb.Id });
                }

                foreach (var id in a.UserOrder)
                {
                    Write(new LogEntry { Op = "putUser", Agency = name, User = a.Users[id] });
                }

                foreach (var id in a.GroupOrder)
                {
                    Write(new LogEntry { Op = "putGroup", Agency = name, Group = a.Groups[id] });
                }

                for (var i = a.Events.Count - 1; i >= 0; i--)
                {
                    Write(new LogEntry { Op = "event", Agency = name, Event = a.Events[i] });
                }
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, LogPath, overwrite: true);
    }

    private void LoadActivity()
    {
        if (!File.Exists(ActivityPath))
        {
            return;
        }

        try
        {
            var snapshot = JsonSerializer.Deserialize<Dictionary<string, ActivitySnapshot>>(File.ReadAllBytes(ActivityPath), s_json);
            foreach (var (agency, s) in snapshot ?? [])
            {
                var a = Agency(agency);
                foreach (var e in s.Subjects)
                {
                    a.Activity[e.SubjectId] = e;
                }

                foreach (var d in s.Daily)
                {
                    a.Daily[d.Day] = d;
                }

                a.Blocks.AddRange(s.Blocks);
            }
        }
        catch (JsonException)
        {
            // A damaged snapshot only loses last-use history; the directory itself is in the log.
        }
    }

    private void FlushActivity()
    {
        if (_directory is null)
        {
            return;
        }

        byte[] bytes;
        lock (_gate)
        {
            if (!_activityDirty)
            {
                return;
            }

            var snapshot = new Dictionary<string, ActivitySnapshot>(StringComparer.Ordinal);
            foreach (var (name, a) in _agencies)
            {
                snapshot[name] = new ActivitySnapshot { Subjects = [.. a.Activity.Values], Daily = [.. a.Daily.Values], Blocks = [.. a.Blocks] };
            }

            bytes = JsonSerializer.SerializeToUtf8Bytes(snapshot, s_json);
            _activityDirty = false;
        }

        try
        {
            var temp = ActivityPath + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, ActivityPath, overwrite: true);
        }
        catch (IOException)
        {
            lock (_gate)
            {
                _activityDirty = true;
            }
        }
    }

    private sealed class LogEntry
    {
        public string Op { get; set; } = string.Empty;

        public string? Agency { get; set; }

        public DirectoryUser? User { get; set; }

        public DirectoryGroup? Group { get; set; }

        public string? Id { get; set; }

        public GovernanceEvent? Event { get; set; }
    }

    private sealed class ActivitySnapshot
    {
        public List<ActivityEntry> Subjects { get; set; } = [];

        public List<DailyUsage> Daily { get; set; } = [];

        public List<GovernanceEvent> Blocks { get; set; } = [];
    }

    /// <summary>Mutable activity of one subject (kept under the store lock).</summary>
    private sealed class ActivityEntry
    {
        public string SubjectId { get; set; } = string.Empty;

        public Model.CallerKind Kind { get; set; }

        public string? UserName { get; set; }

        public string? ClientAppId { get; set; }

        public List<string> LastRoles { get; set; } = [];

        public DateTimeOffset LastUse { get; set; }

        public Dictionary<string, DateTimeOffset> LastUseByModel { get; set; } = new(StringComparer.Ordinal);

        public Dictionary<int, long> TokensByDay { get; set; } = [];

        public Dictionary<int, long> RequestsByDay { get; set; } = [];

        public SubjectActivity ToActivity() => new(
            SubjectId, Kind, UserName, ClientAppId, [.. LastRoles], LastUse,
            new Dictionary<string, DateTimeOffset>(LastUseByModel, StringComparer.Ordinal), new Dictionary<int, long>(TokensByDay), new Dictionary<int, long>(RequestsByDay));
    }

    /// <summary>One agency's users, groups and indexes (userName and displayName case-insensitive, as SCIM defines them).</summary>
    private sealed class AgencyDirectory
    {
        public Dictionary<string, DirectoryUser> Users { get; } = new(StringComparer.Ordinal);

        public List<string> UserOrder { get; } = [];

        public Dictionary<string, string> UsersByUserName { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Dictionary<string, string> UsersByExternalId { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Tombstones { get; } = new(StringComparer.Ordinal);

        /// <summary>Deleted users kept only so compaction can keep their tombstones.</summary>
        public List<DirectoryUser> TombstoneUsers { get; } = [];

        public Dictionary<string, DirectoryGroup> Groups { get; } = new(StringComparer.Ordinal);

        public List<string> GroupOrder { get; } = [];

        public Dictionary<string, string> GroupsByName { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Dictionary<string, string> GroupsByExternalId { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, HashSet<string>> GroupsByMember { get; } = new(StringComparer.Ordinal);

        public List<GovernanceEvent> Events { get; } = [];

        public List<GovernanceEvent> Blocks { get; } = [];

        public Dictionary<string, ActivityEntry> Activity { get; } = new(StringComparer.Ordinal);

        public Dictionary<int, DailyUsage> Daily { get; } = [];

        public void ApplyPutUser(DirectoryUser user)
        {
            if (Users.TryGetValue(user.Id, out var old))
            {
                UsersByUserName.Remove(old.UserName);
                if (old.ExternalId is not null)
                {
                    UsersByExternalId.Remove(old.ExternalId);
                }
            }
            else
            {
                UserOrder.Add(user.Id);
            }

            Users[user.Id] = user;
            UsersByUserName[user.UserName] = user.Id;
            Tombstones.Remove("un:" + user.UserName.ToUpperInvariant());
            if (user.ExternalId is not null)
            {
                UsersByExternalId[user.ExternalId] = user.Id;
                Tombstones.Remove("ext:" + user.ExternalId);
            }
        }

        public void ApplyDeleteUser(string id)
        {
            if (!Users.Remove(id, out var old))
            {
                return;
            }

            UserOrder.Remove(id);
            UsersByUserName.Remove(old.UserName);
            Tombstones.Add("un:" + old.UserName.ToUpperInvariant());
            if (old.ExternalId is not null)
            {
                UsersByExternalId.Remove(old.ExternalId);
                Tombstones.Add("ext:" + old.ExternalId);
            }

            TombstoneUsers.Add(old with { Json = "{}" });
            if (GroupsByMember.Remove(id, out var groups))
            {
                foreach (var gid in groups)
                {
                    var g = Groups[gid];
                    Groups[gid] = g with { Members = g.Members.Where(m => m.Value != id).ToList() };
                }
            }
        }

        public void ApplyPutGroup(DirectoryGroup group)
        {
            if (Groups.TryGetValue(group.Id, out var old))
            {
                GroupsByName.Remove(old.DisplayName);
                if (old.ExternalId is not null)
                {
                    GroupsByExternalId.Remove(old.ExternalId);
                }

                foreach (var m in old.Members)
                {
                    if (GroupsByMember.TryGetValue(m.Value, out var set))
                    {
                        set.Remove(group.Id);
                    }
                }
            }
            else
            {
                GroupOrder.Add(group.Id);
            }

            Groups[group.Id] = group;
            GroupsByName[group.DisplayName] = group.Id;
            if (group.ExternalId is not null)
            {
                GroupsByExternalId[group.ExternalId] = group.Id;
            }

            foreach (var m in group.Members)
            {
                if (!GroupsByMember.TryGetValue(m.Value, out var set))
                {
                    set = new HashSet<string>(StringComparer.Ordinal);
                    GroupsByMember[m.Value] = set;
                }

                set.Add(group.Id);
            }
        }

        public void ApplyDeleteGroup(string id)
        {
            if (!Groups.Remove(id, out var old))
            {
                return;
            }

            GroupOrder.Remove(id);
            GroupsByName.Remove(old.DisplayName);
            if (old.ExternalId is not null)
            {
                GroupsByExternalId.Remove(old.ExternalId);
            }

            foreach (var m in old.Members)
            {
                if (GroupsByMember.TryGetValue(m.Value, out var set))
                {
                    set.Remove(id);
                }
            }
        }

        public IReadOnlyList<GroupRef> GroupsOf(string userId)
        {
            if (!GroupsByMember.TryGetValue(userId, out var set) || set.Count == 0)
            {
                return [];
            }

            var list = new List<GroupRef>(set.Count);
            foreach (var gid in set)
            {
                list.Add(new GroupRef(gid, Groups[gid].DisplayName));
            }

            return list;
        }

        public void AddEvent(GovernanceEvent value, int max)
        {
            Events.Insert(0, value);
            if (Events.Count > max)
            {
                Events.RemoveAt(Events.Count - 1);
            }
        }
    }
}
