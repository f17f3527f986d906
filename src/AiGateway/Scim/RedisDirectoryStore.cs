using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace AiGateway.Scim;

/// <summary>
/// The directory shared by every replica. All keys of an agency carry its hash tag (<c>aigw:{agency}:dir:…</c>,
/// <c>aigw:{agency}:act:…</c>) so each multi-key script runs in one slot. Every write is one Lua script (indexes and
/// memberships change atomically with the resource); the per-request caller lookup is one script, one round trip,
/// with no cache — so a deactivation is seen by the next request on any replica.
/// </summary>
internal sealed class RedisDirectoryStore : IDirectoryStore, IAsyncDisposable
{
    private const int ActivityTtlDays = 400;

    // ARGV: prefix, id, json, userName (upper-cased), externalId ('' none), active, expected version (-1 any), now ms, mode (create|update).
    private const string PutUserScript = """
        local p, id = ARGV[1], ARGV[2]
        local uk = p .. 'u:' .. id
        local exists = redis.call('EXISTS', uk) == 1
        if ARGV[9] == 'create' and exists then return {'conflict', 'id'} end
        if ARGV[9] == 'update' and not exists then return {'notfound'} end
        local other = redis.call('HGET', p .. 'un', ARGV[4])
        if other and other ~= id then return {'conflict', 'userName'} end
        if ARGV[5] ~= '' then
          other = redis.call('HGET', p .. 'ext', ARGV[5])
          if other and other ~= id then return {'conflict', 'externalId'} end
        end
        local v, created = 0, ARGV[8]
        if exists then
          local old = redis.call('HMGET', uk, 'un', 'ext', 'v', 'c')
          v = tonumber(old[3])
          created = old[4]
          if ARGV[7] ~= '-1' and tonumber(ARGV[7]) ~= v then return {'version'} end
          redis.call('HDEL', p .. 'un', old[1])
          if old[2] and old[2] ~= '' then redis.call('HDEL', p .. 'ext', old[2]) end
        else
          redis.call('ZADD', p .. 'users', redis.call('INCR', p .. 'seq'), id)
        end
        v = v + 1
        redis.call('HSET', uk, 'j', ARGV[3], 'un', ARGV[4], 'ext', ARGV[5], 'a', ARGV[6], 'v', v, 'c', created, 'm', ARGV[8])
        redis.call('HSET', p .. 'un', ARGV[4], id)
        redis.call('HDEL', p .. 'tomb', 'un:' .. ARGV[4])
        if ARGV[5] ~= '' then
          redis.call('HSET', p .. 'ext', ARGV[5], id)
          redis.call('HDEL', p .. 'tomb', 'ext:' .. ARGV[5])
        end
        return {'ok', tostring(v), tostring(created)}
        """;

    // ARGV: prefix, id, expected version, now ms.
    private const string DeleteUserScript = """
        local p, id = ARGV[1], ARGV[2]
        local uk = p .. 'u:' .. id
        if redis.call('EXISTS', uk) == 0 then return {'notfound'} end
        local old = redis.call('HMGET', uk, 'un', 'ext', 'v')
        if ARGV[3] ~= '-1' and tonumber(ARGV[3]) ~= tonumber(old[3]) then return {'version'} end
        redis.call('HDEL', p .. 'un', old[1])
        redis.call('HSET', p .. 'tomb', 'un:' .. old[1], ARGV[4])
        if old[2] and old[2] ~= '' then
          redis.call('HDEL', p .. 'ext', old[2])
          redis.call('HSET', p .. 'tomb', 'ext:' .. old[2], ARGV[4])
        end
        for _, g in ipairs(redis.call('SMEMBERS', p .. 'ug:' .. id)) do
          redis.call('SREM', p .. 'gm:' .. g, id)
          redis.call('HDEL', p .. 'gmd:' .. g, id)
        end
        redis.call('DEL', uk, p .. 'ug:' .. id)
        redis.call('ZREM', p .. 'users', id)
        return {'ok'}
        """;

    // ARGV: prefix, id, json, displayName, displayName upper-cased, externalId, expected version, now ms, mode, then member id/display pairs.
    private const string PutGroupScript = """
        local p, id = ARGV[1], ARGV[2]
        local gk = p .. 'g:' .. id
        local exists = redis.call('EXISTS', gk) == 1
        if ARGV[9] == 'create' and exists then return {'conflict', 'id'} end
        if ARGV[9] == 'update' and not exists then return {'notfound'} end
        local other = redis.call('HGET', p .. 'gn', ARGV[5])
        if other and other ~= id then return {'conflict', 'displayName'} end
        if ARGV[6] ~= '' then
          other = redis.call('HGET', p .. 'gext', ARGV[6])
          if other and other ~= id then return {'conflict', 'externalId'} end
        end
        local v, created = 0, ARGV[8]
        if exists then
          local old = redis.call('HMGET', gk, 'dnu', 'ext', 'v', 'c')
          v = tonumber(old[3])
          created = old[4]
          if ARGV[7] ~= '-1' and tonumber(ARGV[7]) ~= v then return {'version'} end
          redis.call('HDEL', p .. 'gn', old[1])
          if old[2] and old[2] ~= '' then redis.call('HDEL', p .. 'gext', old[2]) end
          for _, m in ipairs(redis.call('SMEMBERS', p .. 'gm:' .. id)) do redis.call('SREM', p .. 'ug:' .. m, id) end
          redis.call('DEL', p .. 'gm:' .. id, p .. 'gmd:' .. id)
        else
          redis.call('ZADD', p .. 'groups', redis.call('INCR', p .. 'seq'), id)
        end
        for i = 10, #ARGV, 2 do
          redis.call('SADD', p .. 'gm:' .. id, ARGV[i])
          redis.call('SADD', p .. 'ug:' .. ARGV[i], id)
          redis.call('HSET', p .. 'gmd:' .. id, ARGV[i], ARGV[i + 1])
        end
        v = v + 1
        redis.call('HSET', gk, 'j', ARGV[3], 'dn', ARGV[4], 'dnu', ARGV[5], 'ext', ARGV[6], 'v', v, 'c', created, 'm', ARGV[8])
        redis.call('HSET', p .. 'gn', ARGV[5], id)
        if ARGV[6] ~= '' then redis.call('HSET', p .. 'gext', ARGV[6], id) end
        return {'ok', tostring(v), tostring(created)}
        """;

    // ARGV: prefix, id, expected version.
    private const string DeleteGroupScript = """
        local p, id = ARGV[1], ARGV[2]
        local gk = p .. 'g:' .. id
        if redis.call('EXISTS', gk) == 0 then return {'notfound'} end
        local old = redis.call('HMGET', gk, 'dnu', 'ext', 'v')
        if ARGV[3] ~= '-1' and tonumber(ARGV[3]) ~= tonumber(old[3]) then return {'version'} end
        redis.call('HDEL', p .. 'gn', old[1])
        if old[2] and old[2] ~= '' then redis.call('HDEL', p .. 'gext', old[2]) end
        for _, m in ipairs(redis.call('SMEMBERS', p .. 'gm:' .. id)) do redis.call('SREM', p .. 'ug:' .. m, id) end
        redis.call('DEL', gk, p .. 'gm:' .. id, p .. 'gmd:' .. id)
        redis.call('ZREM', p .. 'groups', id)
        return {'ok'}
        """;

    // ARGV: prefix, subject, user name upper-cased ('' none). Returns {status, user id, group id, group name, …}.
    private const string LookupScript = """
        local p = ARGV[1]
        local id = redis.call('HGET', p .. 'ext', ARGV[2])
        if not id and ARGV[3] ~= '' then id = redis.call('HGET', p .. 'un', ARGV[3]) end
        if not id then
          local t = redis.call('HEXISTS', p .. 'tomb', 'ext:' .. ARGV[2])
          if t == 0 and ARGV[3] ~= '' then t = redis.call('HEXISTS', p .. 'tomb', 'un:' .. ARGV[3]) end
          if t == 1 then return {'deleted'} end
          return {'unknown'}
        end
        local out = {redis.call('HGET', p .. 'u:' .. id, 'a') == '1' and 'active' or 'inactive', id}
        for _, g in ipairs(redis.call('SMEMBERS', p .. 'ug:' .. id)) do
          out[#out + 1] = g
          out[#out + 1] = redis.call('HGET', p .. 'g:' .. g, 'dn') or ''
        end
        return out
        """;

    // ARGV: prefix, subject, at ms, day, tokens, model ('' none), meta json, allowed (1/0), ttl ms.
    // ARGV: prefix, subject, last use ms, day, tokens, model ('' none), meta json, allowed ('1'|'0'), ttl ms, requests.
    private const string RecordScript = """
        local p, s = ARGV[1], ARGV[2]
        local k = p .. 's:' .. s
        local day, n = tonumber(ARGV[4]), tonumber(ARGV[10])
        local last = tonumber(redis.call('HGET', k, 'l') or '0')
        if tonumber(ARGV[3]) >= last then redis.call('HSET', k, 'l', ARGV[3], 'meta', ARGV[7]) end
        if ARGV[6] ~= '' and ARGV[8] == '1' and tonumber(ARGV[3]) >= tonumber(redis.call('HGET', k, 'lm:' .. ARGV[6]) or '0') then
          redis.call('HSET', k, 'lm:' .. ARGV[6], ARGV[3])
        end
        if redis.call('HINCRBY', k, 'r:' .. day, n) == n then
          redis.call('HDEL', k, 'r:' .. (day - 400), 't:' .. (day - 400))
        end
        redis.call('HINCRBY', k, 't:' .. day, tonumber(ARGV[5]))
        redis.call('PEXPIRE', k, ARGV[9])
        if tonumber(ARGV[3]) >= tonumber(redis.call('ZSCORE', p .. 'seen', s) or '0') then redis.call('ZADD', p .. 'seen', ARGV[3], s) end
        redis.call('PEXPIRE', p .. 'seen', ARGV[9])
        local d = p .. 'd:' .. day
        redis.call('HINCRBY', d, 'r', n)
        redis.call('HINCRBY', d, 't', tonumber(ARGV[5]))
        if ARGV[8] ~= '1' then redis.call('HINCRBY', d, 'b', n) end
        redis.call('PEXPIRE', d, ARGV[9])
        return 1
        """;

    private static readonly TimeSpan s_activityFlushInterval = TimeSpan.FromSeconds(1);

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly ConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly ActivityBuffer _activity = new();
    private readonly Timer _activityTimer;

    private RedisDirectoryStore(ConnectionMultiplexer redis, TimeProvider time)
    {
        _redis = redis;
        _time = time;
        _activityTimer = new Timer(static state => ((RedisDirectoryStore)state!).FlushActivity(), this, s_activityFlushInterval, s_activityFlushInterval);
    }

    /// <summary>Connects like the limit store does (same options), without waiting for Redis to be up.</summary>
    public static RedisDirectoryStore Connect(string configuration, string? password, int timeoutMilliseconds, TimeProvider time) =>
        new(RateLimiting.RedisConnection.Connect(configuration, password, timeoutMilliseconds, "aigateway-directory"), time);

    private IDatabase Db => _redis.GetDatabase();

    private static string Dir(string agency) => $"aigw:{{{agency}}}:dir:";

    private static string Act(string agency) => $"aigw:{{{agency}}}:act:";

    public async Task<DirectoryUser?> GetUserAsync(string agency, string id, CancellationToken cancel)
    {
        var p = Dir(agency);
        var v = await Run(() => Db.HashGetAsync(p + "u:" + id, ["j", "v", "c", "m", "a", "ext"]));
        return v[0].IsNull ? null : ToUser(id, v);
    }

    public async Task<string?> FindUserIdAsync(string agency, LookupKey key, string value, CancellationToken cancel)
    {
        var p = Dir(agency);
        var hit = key == LookupKey.ExternalId
            ? await Run(() => Db.HashGetAsync(p + "ext", value))
            : await Run(() => Db.HashGetAsync(p + "un", value.ToUpperInvariant()));
        return hit.IsNull ? null : hit.ToString();
    }

    public async Task<IReadOnlyList<DirectoryUser>> ListUsersAsync(string agency, CancellationToken cancel)
    {
        var p = Dir(agency);
        var ids = await Run(() => Db.SortedSetRangeByRankAsync(p + "users"));
        var batch = Db.CreateBatch();
        var reads = new List<(string Id, Task<RedisValue[]> Read)>(ids.Length);
        foreach (var id in ids)
        {
            reads.Add((id.ToString(), batch.HashGetAsync(p + "u:" + id, ["j", "v", "c", "m", "a", "ext"])));
        }

        batch.Execute();
        var list = new List<DirectoryUser>(ids.Length);
        foreach (var (id, read) in reads)
        {
            var v = await Run(() => read);
            if (!v[0].IsNull)
            {
                list.Add(ToUser(id, v));
            }
        }

        return list;
    }

    public async Task<WriteResult> PutUserAsync(string agency, DirectoryUser user, bool create, long? expectedVersion, CancellationToken cancel)
    {
        var p = Dir(agency);
        var result = (RedisResult[])(await Run(() => Db.ScriptEvaluateAsync(PutUserScript, [p + "u:" + user.Id],
            [p, user.Id, user.Json, user.UserName.ToUpperInvariant(), user.ExternalId ?? string.Empty, user.Active ? "1" : "0",
             expectedVersion ?? -1, Now(), create ? "create" : "update"])))!;
        return ToWrite(result);
    }

    public async Task<WriteResult> DeleteUserAsync(string agency, string id, long? expectedVersion, CancellationToken cancel)
    {
        var p = Dir(agency);
        var result = (RedisResult[])(await Run(() => Db.ScriptEvaluateAsync(DeleteUserScript, [p + "u:" + id], [p, id, expectedVersion ?? -1, Now()])))!;
        return ToWrite(result);
    }

    public async Task<DirectoryGroup?> GetGroupAsync(string agency, string id, CancellationToken cancel)
    {
        var p = Dir(agency);
        var batch = Db.CreateBatch();
        var head = batch.HashGetAsync(p + "g:" + id, ["j", "v", "c", "m", "dn", "ext"]);
        var members = batch.HashGetAllAsync(p + "gmd:" + id);
        batch.Execute();
        var v = await Run(() => head);
        var m = await Run(() => members);
        return v[0].IsNull ? null : ToGroup(id, v, m);
    }

    public async Task<string?> FindGroupIdAsync(string agency, LookupKey key, string value, CancellationToken cancel)
    {
        var p = Dir(agency);
        var hit = key == LookupKey.ExternalId
            ? await Run(() => Db.HashGetAsync(p + "gext", value))
            : await Run(() => Db.HashGetAsync(p + "gn", value.ToUpperInvariant()));
        return hit.IsNull ? null : hit.ToString();
    }

    public async Task<IReadOnlyList<DirectoryGroup>> ListGroupsAsync(string agency, CancellationToken cancel)
    {
        var p = Dir(agency);
        var ids = await Run(() => Db.SortedSetRangeByRankAsync(p + "groups"));
        var batch = Db.CreateBatch();
        var reads = new List<(string Id, Task<RedisValue[]> Head, Task<HashEntry[]> Members)>(ids.Length);
        foreach (var id in ids)
        {
            reads.Add((id.ToString(), batch.HashGetAsync(p + "g:" + id, ["j", "v", "c", "m", "dn", "ext"]), batch.HashGetAllAsync(p + "gmd:" + id)));
        }

        batch.Execute();
        var list = new List<DirectoryGroup>(ids.Length);
        foreach (var (id, head, members) in reads)
        {
            var v = await Run(() => head);
            var m = await Run(() => members);
            if (!v[0].IsNull)
            {
                list.Add(ToGroup(id, v, m));
            }
        }

        return list;
    }

    public async Task<WriteResult> PutGroupAsync(string agency, DirectoryGroup group, bool create, long? expectedVersion, CancellationToken cancel)
    {
        var p = Dir(agency);
        var args = new List<RedisValue>
        {
            p, group.Id, group.Json, group.DisplayName, group.DisplayName.ToUpperInvariant(), group.ExternalId ?? string.Empty,
            expectedVersion ?? -1, Now(), create ? "create" : "update",
        };
        foreach (var m in group.Members)
        {
            args.Add(m.Value);
            args.Add(m.Display ?? string.Empty);
        }

        var result = (RedisResult[])(await Run(() => Db.ScriptEvaluateAsync(PutGroupScript, [p + "g:" + group.Id], [.. args])))!;
        return ToWrite(result);
    }

    public async Task<WriteResult> DeleteGroupAsync(string agency, string id, long? expectedVersion, CancellationToken cancel)
    {
        var p = Dir(agency);
        var result = (RedisResult[])(await Run(() => Db.ScriptEvaluateAsync(DeleteGroupScript, [p + "g:" + id], [p, id, expectedVersion ?? -1])))!;
        return ToWrite(result);
    }

    public async Task<IReadOnlyList<GroupRef>> GroupsOfUserAsync(string agency, string userId, CancellationToken cancel)
    {
        var p = Dir(agency);
        var ids = await Run(() => Db.SetMembersAsync(p + "ug:" + userId));
        var list = new List<GroupRef>(ids.Length);
        foreach (var id in ids)
        {
            var name = await Run(() => Db.HashGetAsync(p + "g:" + id, "dn"));
            list.Add(new GroupRef(id.ToString(), name.ToString()));
        }

        return list;
    }

    public async Task<CallerDirectoryState> LookupCallerAsync(string agency, string subjectId, string? userName, CancellationToken cancel)
    {
        var p = Dir(agency);
        var result = (RedisResult[])(await Run(() => Db.ScriptEvaluateAsync(LookupScript, [p + "ext"], [p, subjectId, userName?.ToUpperInvariant() ?? string.Empty])))!;
        var status = result[0].ToString();
        switch (status)
        {
            case "unknown":
                return CallerDirectoryState.Unknown;
            case "deleted":
                return CallerDirectoryState.Deleted;
        }

        var groups = new List<GroupRef>((result.Length - 2) / 2);
        for (var i = 2; i + 1 < result.Length; i += 2)
        {
            groups.Add(new GroupRef(result[i].ToString(), result[i + 1].ToString()));
        }

        return new CallerDirectoryState(status == "active" ? DirectoryStatus.Active : DirectoryStatus.Inactive, result[1].ToString(), groups);
    }

    /// <summary>Coalesced per replica and written every second (see <see cref="ActivityBuffer"/>); a block is listed at once.</summary>
    public void RecordActivity(string agency, ActivityRecord record)
    {
        _activity.Add(agency, record);
        if (record.BlockedLevel is null)
        {
            return;
        }

        try
        {
            var json = JsonSerializer.Serialize(new GovernanceEvent(record.At, record.BlockedLevel, record.SubjectId, record.Model ?? string.Empty), s_json);
            var key = Act(agency) + "blocks";
            _ = Db.ListLeftPushAsync(key, json, flags: CommandFlags.FireAndForget);
            _ = Db.ListTrimAsync(key, 0, 199, CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
            // Activity is best effort: a request is never refused because its last-use stamp could not be written.
        }
    }

    /// <summary>Sends what <see cref="ActivityBuffer"/> holds, one script per caller, model, day and outcome, pipelined (fire-and-forget).</summary>
    private void FlushActivity()
    {
        var pending = _activity.Drain();
        if (pending.Count == 0)
        {
            return;
        }

        try
        {
            var ttl = (long)TimeSpan.FromDays(ActivityTtlDays).TotalMilliseconds;
            var batch = Db.CreateBatch();
            foreach (var (key, totals) in pending)
            {
                var record = totals.Latest;
                var p = Act(key.Agency);
                var meta = JsonSerializer.Serialize(new ActivityMeta(record.Kind, record.UserName, record.ClientAppId, record.Roles), s_json);
                _ = batch.ScriptEvaluateAsync(RecordScript, [p + "s:" + key.SubjectId],
                    [p, key.SubjectId, record.At.ToUnixTimeMilliseconds(), key.Day, totals.Tokens, key.Model, meta, key.Allowed ? "1" : "0", ttl, totals.Requests],
                    CommandFlags.FireAndForget);
            }

            batch.Execute();
        }
        catch (RedisException)
        {
            // Best effort, as above.
        }
    }

    public async Task<IReadOnlyList<SubjectActivity>> ReadActivityAsync(string agency, CancellationToken cancel)
    {
        FlushActivity(); // this replica's own recent requests first (same connection: written before the reads below)
        var p = Act(agency);
        var subjects = await Run(() => Db.SortedSetRangeByRankAsync(p + "seen"));
        var batch = Db.CreateBatch();
        var reads = new List<Task<HashEntry[]>>(subjects.Length);
        foreach (var subject in subjects)
        {
            reads.Add(batch.HashGetAllAsync(p + "s:" + subject));
        }

        batch.Execute();
        var list = new List<SubjectActivity>(subjects.Length);
        for (var i = 0; i < subjects.Length; i++)
        {
            var subject = subjects[i];
            var read = reads[i];
            var fields = await Run(() => read);
            if (fields.Length == 0)
            {
                continue;
            }

            ActivityMeta? meta = null;
            DateTimeOffset last = default;
            var byModel = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            var tokens = new Dictionary<int, long>();
            var requests = new Dictionary<int, long>();
            foreach (var field in fields)
            {
                var name = field.Name.ToString();
                if (name == "meta")
                {
                    meta = JsonSerializer.Deserialize<ActivityMeta>(field.Value.ToString(), s_json);
                }
                else if (name == "l")
                {
                    last = DateTimeOffset.FromUnixTimeMilliseconds((long)field.Value);
                }
                else if (name.StartsWith("lm:", StringComparison.Ordinal))
                {
                    byModel[name[3..]] = DateTimeOffset.FromUnixTimeMilliseconds((long)field.Value);
                }
                else if (name.StartsWith("t:", StringComparison.Ordinal))
                {
                    tokens[int.Parse(name.AsSpan(2), CultureInfo.InvariantCulture)] = (long)field.Value;
                }
                else if (name.StartsWith("r:", StringComparison.Ordinal))
                {
                    requests[int.Parse(name.AsSpan(2), CultureInfo.InvariantCulture)] = (long)field.Value;
                }
            }

            list.Add(new SubjectActivity(subject.ToString(), meta?.Kind ?? Model.CallerKind.Person, meta?.UserName, meta?.ClientAppId, meta?.Roles ?? [], last, byModel, tokens, requests));
        }

        return list;
    }

    public async Task<IReadOnlyList<DailyUsage>> ReadDailyUsageAsync(string agency, int fromDay, int toDay, CancellationToken cancel)
    {
        FlushActivity();
        var p = Act(agency);
        var batch = Db.CreateBatch();
        var reads = new List<(int Day, Task<RedisValue[]> Read)>();
        for (var day = fromDay; day <= toDay; day++)
        {
            reads.Add((day, batch.HashGetAsync(p + "d:" + day, ["r", "t", "b"])));
        }

        batch.Execute();
        var list = new List<DailyUsage>(reads.Count);
        foreach (var (day, read) in reads)
        {
            var v = await Run(() => read);
            list.Add(new DailyUsage(day, v[0].IsNull ? 0 : (long)v[0], v[1].IsNull ? 0 : (long)v[1], v[2].IsNull ? 0 : (long)v[2]));
        }

        return list;
    }

    public async Task AppendEventAsync(string agency, EventStream stream, GovernanceEvent value, CancellationToken cancel)
    {
        var key = Act(agency) + (stream == EventStream.Deprovisioning ? "events" : "blocks");
        var json = JsonSerializer.Serialize(value, s_json);
        var tx = Db.CreateTransaction();
        _ = tx.ListLeftPushAsync(key, json);
        _ = tx.ListTrimAsync(key, 0, stream == EventStream.Deprovisioning ? 499 : 199);
        await Run(() => tx.ExecuteAsync());
    }

    public async Task<IReadOnlyList<GovernanceEvent>> ReadEventsAsync(string agency, EventStream stream, int max, CancellationToken cancel)
    {
        var key = Act(agency) + (stream == EventStream.Deprovisioning ? "events" : "blocks");
        var items = await Run(() => Db.ListRangeAsync(key, 0, max - 1));
        var list = new List<GovernanceEvent>(items.Length);
        foreach (var item in items)
        {
            if (JsonSerializer.Deserialize<GovernanceEvent>(item.ToString(), s_json) is { } e)
            {
                list.Add(e);
            }
        }

        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _activityTimer.DisposeAsync();
        FlushActivity();
        await RateLimiting.RedisConnection.CloseAsync(_redis); // the last activity included
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static async Task<T> Run<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw new DirectoryUnavailableException("The directory store (Redis) is unavailable.", ex);
        }
    }

    private static WriteResult ToWrite(RedisResult[] result) => result[0].ToString() switch
    {
        "ok" when result.Length >= 3 => new WriteResult(WriteStatus.Ok, long.Parse(result[1].ToString(), CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(result[2].ToString(), CultureInfo.InvariantCulture))),
        "ok" => new WriteResult(WriteStatus.Ok),
        "notfound" => new WriteResult(WriteStatus.NotFound),
        "version" => new WriteResult(WriteStatus.VersionMismatch),
        _ => new WriteResult(WriteStatus.Conflict, ConflictAttribute: result.Length > 1 ? result[1].ToString() : null),
    };

    private static DirectoryUser ToUser(string id, RedisValue[] v)
    {
        var json = v[0].ToString();
        var userName = ScimResource.ReadString(json, "userName") ?? string.Empty;
        return new DirectoryUser(id, userName, v[5].IsNullOrEmpty ? null : v[5].ToString(), v[4] == "1", json, (long)v[1],
            DateTimeOffset.FromUnixTimeMilliseconds((long)v[2]), DateTimeOffset.FromUnixTimeMilliseconds((long)v[3]));
    }

    private static DirectoryGroup ToGroup(string id, RedisValue[] v, HashEntry[] members)
    {
        var list = new List<GroupMember>(members.Length);
        foreach (var m in members)
        {
            list.Add(new GroupMember(m.Name.ToString(), m.Value.IsNullOrEmpty ? null : m.Value.ToString()));
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Value, b.Value));
        return new DirectoryGroup(id, v[4].ToString(), v[5].IsNullOrEmpty ? null : v[5].ToString(), list, v[0].ToString(), (long)v[1],
            DateTimeOffset.FromUnixTimeMilliseconds((long)v[2]), DateTimeOffset.FromUnixTimeMilliseconds((long)v[3]));
    }

    private sealed record ActivityMeta(Model.CallerKind Kind, string? UserName, string? ClientAppId, IReadOnlyList<string> Roles);
}
