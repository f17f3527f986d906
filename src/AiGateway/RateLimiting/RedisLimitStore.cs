using StackExchange.Redis;

namespace AiGateway.RateLimiting;

/// <summary>
/// Limits shared by every replica: one prepared Lua script per operation checks and updates all scopes of a
/// slot atomically in one round trip, with Redis <c>TIME</c> as the only clock and an expiry on every key.
/// Keys per scope: <c>…:w</c> (hash of one-second request/token buckets), <c>…:b</c> (hash of day/month
/// budgets), <c>…:f</c> (sorted set of in-flight leases). A circuit breaker keeps a dead Redis from adding a
/// timeout to every request: after <see cref="FailuresToOpen"/> failures in a row, calls fail at once for the break
/// period, then one probe goes through. A single slow answer (a pause of the Redis host) fails only its own call.
/// </summary>
internal sealed partial class RedisLimitStore : ILimitStore, IAsyncDisposable
{
    private const string CivilMonth = """
        local function civil_month(day)
          local z = day + 719468
          local era = math.floor(z / 146097)
          local doe = z - era * 146097
          local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
          local y = yoe + era * 400
          local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
          local mp = math.floor((5 * doy + 2) / 153)
          local m = mp < 10 and mp + 3 or mp - 9
          if m <= 2 then y = y + 1 end
          return y * 100 + m
        end
        """;

    // The sliding minute of one scope in O(1) per request. The window hash holds C (the current second) with its counts CR /
    // CT, the one-second buckets r:<s> / t:<s> of earlier seconds, the running sums R / T (the current second included), E
    // (the oldest second the sums include: every bucket before it has been subtracted and deleted) and OR / OT (the oldest
    // second with requests / tokens, 0 = none, for reset and retry-after). A request touches only these eight fields, which
    // sit at the front of the hash (Redis keeps a small hash as a list it searches from the front: the current second's
    // bucket at its end cost a scan of ~120 entries per lookup); when the second moves, the previous one becomes a bucket
    // and the buckets that left the window are subtracted and deleted (one second's worth when traffic is steady), instead
    // of summing up to 120 buckets per request. A hash without E or C (an earlier version's) is rebuilt once.
    private const string Window = """
        local function first_nonzero(w, prefix, from, to)
          if from > to then return 0 end
          local names = {}
          for s = from, to do names[#names + 1] = prefix .. s end
          local v = redis.call('HMGET', w, unpack(names))
          for j = 1, #v do
            if (tonumber(v[j]) or 0) ~= 0 then return from + j - 1 end
          end
          return 0
        end
        -- R, T, OR, OT of the minute ending at sec, the current second's counts (rs, ts), and tick: true when the window moved
        -- (at most once a second per scope while traffic lasts) or was empty, the moments to refresh expiries and purge.
        -- With write, the moved state is stored (a refusal must not leave sums of deleted buckets behind).
        local function roll(w, sec, write)
          local oldest = sec - 59
          local m = redis.call('HMGET', w, 'R', 'T', 'E', 'OR', 'OT', 'C', 'CR', 'CT')
          local R, T, E, OR, OT = tonumber(m[1]) or 0, tonumber(m[2]) or 0, tonumber(m[3]), tonumber(m[4]) or 0, tonumber(m[5]) or 0
          local C, rs, ts = tonumber(m[6]), tonumber(m[7]) or 0, tonumber(m[8]) or 0
          if E == nil or C == nil then
            -- Empty, or an earlier version's layout: count the live buckets once (the current second's into CR / CT), drop the rest.
            R, T, OR, OT, rs, ts = 0, 0, 0, 0, 0, 0
            local fields = redis.call('HGETALL', w)
            local stale = {}
            for j = 1, #fields, 2 do
              local k = fields[j]
              local s = tonumber(string.sub(k, 3))
              local v = tonumber(fields[j + 1]) or 0
              local kind = string.sub(k, 1, 2)
              if s == nil or s < oldest or s > sec or (kind ~= 'r:' and kind ~= 't:') then
                stale[#stale + 1] = k
              elseif kind == 'r:' then
                R = R + v
                if v ~= 0 and (OR == 0 or s < OR) then OR = s end
                if s == sec then rs = v; stale[#stale + 1] = k end
              else
                T = T + v
                if v ~= 0 and (OT == 0 or s < OT) then OT = s end
                if s == sec then ts = v; stale[#stale + 1] = k end
              end
            end
            if write and #fields > 0 then
              if #stale > 0 then redis.call('HDEL', w, unpack(stale)) end
              redis.call('HSET', w, 'R', R, 'T', T, 'E', oldest, 'OR', OR, 'OT', OT, 'C', sec, 'CR', rs, 'CT', ts)
            end
            return R, T, OR, OT, rs, ts, true
          end
          if oldest - E >= 60 then
            -- Idle for more than a minute: everything has left the window.
            if write then redis.call('DEL', w) end
            return 0, 0, 0, 0, 0, 0, true
          end
          -- Every write stores E = (its second) - 59 and C = its second, so here C - 59 = E: the previous current second
          -- is still inside the minute (a minute later the branch above has dropped everything).
          local moved = C ~= sec
          local pc, pr, pt = C, rs, ts -- the previous current second, a bucket from now on
          if moved then rs, ts = 0, 0 end
          local stale = {}
          if E < oldest then
            for s = E, oldest - 1 do stale[#stale + 1] = 'r:' .. s; stale[#stale + 1] = 't:' .. s end
            local v = redis.call('HMGET', w, unpack(stale))
            for j = 1, #v, 2 do
              R = R - (tonumber(v[j]) or 0)
              T = T - (tonumber(v[j + 1]) or 0)
            end
            if OR ~= 0 and OR < oldest then
              OR = first_nonzero(w, 'r:', oldest, sec)
              if moved and pr ~= 0 and (OR == 0 or pc < OR) then OR = pc end
            end
            if OT ~= 0 and OT < oldest then
              OT = first_nonzero(w, 't:', oldest, sec)
              if moved and pt ~= 0 and (OT == 0 or pc < OT) then OT = pc end
            end
          end
          if write and (moved or E < oldest) then
            if #stale > 0 then redis.call('HDEL', w, unpack(stale)) end
            local set = {'R', R, 'T', T, 'E', oldest, 'OR', OR, 'OT', OT, 'C', sec, 'CR', rs, 'CT', ts}
            redis.call('HSET', w, unpack(set))
            -- Added to, not set: during a rolling upgrade a replica of the previous version counts the current
            -- second straight into its bucket (and into R / T), and both must add up.
            if moved and pr ~= 0 then redis.call('HINCRBY', w, 'r:' .. pc, pr) end
            if moved and pt ~= 0 then redis.call('HINCRBY', w, 't:' .. pc, pt) end
          end
          return R, T, OR, OT, rs, ts, moved or E < oldest
        end
        """;

    // Reconciliation of earlier requests (see CommitAsync): ARGV[a] = number of commits, then 7 values per commit (scopes k,
    // bucket second, day, month, delta tokens, delta cost, lease); their keys, 3 per scope, start at KEYS[key]. A bucket
    // that has left the window (deleted) is not corrected: its tokens no longer count; nor is a budget hash that expired.
    // Read-then-write (HMGET + HSET) rather than one HINCRBY per field: each redis.call costs ~1.5 µs of Redis CPU.
    // With own (window key -> scope index of the reservation that carries the commits), a commit of a scope the reservation
    // also checks is folded into that scope's state (fold[i]) instead: the reservation reads and writes those keys anyway,
    // so its deltas and lease ride on the reservation's own HMGET / HSET / ZREM (the common case: a caller's next request).
    private const string Commits = """
        local function apply_commits(key, a, own, day, month, fold)
          local c = tonumber(ARGV[a])
          a = a + 1
          for j = 1, c do
            local k, sec, cday, cmonth = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
            local dt, dc, lease = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), ARGV[a + 6]
            for i = 1, k do
              local w, b, f = KEYS[key], KEYS[key + 1], KEYS[key + 2]
              local x = own and own[w] and fold[own[w]]
              if x then
                if dt ~= 0 then
                  x.seconds[#x.seconds + 1] = tonumber(sec)
                  x.seconds[#x.seconds + 1] = dt
                end
                x.leases[#x.leases + 1] = lease
              else
                if dt ~= 0 then
                  local v = redis.call('HMGET', w, 'C', 'CT', 'T')
                  if tonumber(v[1]) == tonumber(sec) then
                    redis.call('HSET', w, 'CT', (tonumber(v[2]) or 0) + dt, 'T', (tonumber(v[3]) or 0) + dt)
                  else
                    local bucket = redis.call('HGET', w, 't:' .. sec)
                    if bucket then redis.call('HSET', w, 't:' .. sec, tonumber(bucket) + dt, 'T', (tonumber(v[3]) or 0) + dt) end
                  end
                end
                redis.call('ZREM', f, lease)
              end
              if x and cday == day and cmonth == month then
                x.dt = x.dt + dt
                x.dc = x.dc + dc
              elseif dt ~= 0 or dc ~= 0 then
                local fields = {'td:' .. cday, 'tm:' .. cmonth, 'cd:' .. cday, 'cm:' .. cmonth}
                local v = redis.call('HMGET', b, fields[1], fields[2], fields[3], fields[4])
                local exists = v[1] or v[2] or v[3] or v[4] or redis.call('EXISTS', b) == 1
                if exists then
                  local set = {}
                  local deltas = {dt, dt, dc, dc}
                  for m = 1, 4 do
                    if deltas[m] ~= 0 then
                      set[#set + 1] = fields[m]
                      set[#set + 1] = (tonumber(v[m]) or 0) + deltas[m]
                    end
                  end
                  redis.call('HSET', b, unpack(set))
                end
              end
              key = key + 3
            end
            a = a + 7
          end
        end
        """;

    // KEYS: 3 per scope (window, budget, in-flight), then the keys of the carried commits. ARGV: tokens, cost, lease,
    // lease ms, clock override ms (0 = TIME), number of scopes n, 7 limits per scope (-1 = none), then the carried
    // commits (applied before the checks: on their own keys first, on the reservation's keys with its own reads and writes). Returns {1, second, day, month, then per scope: usedR, usedT, oldestR, oldestT} or
    // {0, scope index, metric index, retry-after seconds, limit}.
    private static readonly Script s_reserve = new(CivilMonth + "\n" + Window + "\n" + Commits + """

        local nowms = tonumber(ARGV[5])
        if nowms == 0 then
          local t = redis.call('TIME')
          nowms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local sec = math.floor(nowms / 1000)
        local day = math.floor(sec / 86400)
        local month = civil_month(day)
        local tokens = tonumber(ARGV[1])
        local cost = tonumber(ARGV[2])
        local leasems = tonumber(ARGV[4])
        local n = tonumber(ARGV[6])
        -- The budget fields of today and this month, named once (Lua formats a number with sprintf at every concatenation).
        local names = {'td:' .. day, 'tm:' .. month, 'cd:' .. day, 'cm:' .. month}
        local own, fold = {}, {}
        for i = 1, n do
          own[KEYS[3 * i - 2]] = i
          fold[i] = {seconds = {}, leases = {}, dt = 0, dc = 0, window = false}
        end
        apply_commits(3 * n + 1, 7 + 7 * n, own, day, month, fold)
        local out = {1, sec, day, month}
        local state = {}
        local refused = nil
        for i = 1, n do
          local w, b, f = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
          local x = fold[i]
          local a = 6 + (i - 1) * 7
          local rpm, tpm, conc = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
          local tpd, tmo, cpd, cmo = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7])
          local R, T, OR, OT, rs, ts, tick = roll(w, sec, true)
          local OR0, OT0 = OR, OT
          -- The carried commits' token deltas: the current second's count, or an earlier second's bucket (one that has left
          -- the minute is not corrected: its tokens no longer count).
          for e = 1, #x.seconds, 2 do
            local s, d = x.seconds[e], x.seconds[e + 1]
            if s == sec then
              ts = ts + d
              T = T + d
              x.window = true
            elseif s >= sec - 59 and s < sec then
              local v = redis.call('HINCRBY', w, 't:' .. s, d)
              T = T + d
              if v > 0 and (OT == 0 or s < OT) then OT = s end
              x.window = true
            end
          end
          local usedT = T
          if usedT < 0 then usedT = 0 end
          local oldR = OR ~= 0 and OR or sec
          local oldT = OT ~= 0 and OT or sec
          -- Expired leases (of requests whose reconciliation never came) are purged once a second, and before a refusal.
          if tick then redis.call('ZREMRANGEBYSCORE', f, '-inf', nowms) end
          local inflight = -1
          if conc >= 0 or tick then
            -- Counted without the carried leases (their requests are over).
            if #x.leases > 0 then
              redis.call('ZREM', f, unpack(x.leases))
              x.leases = {}
            end
            inflight = redis.call('ZCARD', f)
            if conc >= 0 and inflight + 1 > conc and not tick then
              redis.call('ZREMRANGEBYSCORE', f, '-inf', nowms)
              inflight = redis.call('ZCARD', f)
            end
          end
          local bv = redis.call('HMGET', b, names[1], names[2], names[3], names[4])
          -- The carried budget deltas, except into a field that is gone (an expired or flushed hash: no longer counted).
          local fd = {x.dt, x.dt, x.dc, x.dc}
          for v = 1, 4 do
            if bv[v] == false then fd[v] = 0 end
          end
          local td, tm = (tonumber(bv[1]) or 0) + fd[1], (tonumber(bv[2]) or 0) + fd[2]
          local cd, cm = (tonumber(bv[3]) or 0) + fd[3], (tonumber(bv[4]) or 0) + fd[4]
          if refused == nil then
            if rpm >= 0 and R + 1 > rpm then refused = {0, i, 0, oldR + 60 - sec, rpm}
            elseif tpm >= 0 and usedT > 0 and usedT + tokens > tpm then refused = {0, i, 1, oldT + 60 - sec, tpm}
            elseif conc >= 0 and inflight + 1 > conc then refused = {0, i, 2, 1, conc}
            elseif tpd >= 0 and td >= tpd then refused = {0, i, 3, 0, tpd}
            elseif tmo >= 0 and tm >= tmo then refused = {0, i, 4, 0, tmo}
            elseif cpd >= 0 and cd >= cpd then refused = {0, i, 5, 0, cpd}
            elseif cmo >= 0 and cm >= cmo then refused = {0, i, 6, 0, cmo}
            end
          end
          state[i] = {R, T, OR, OT, rs, ts, tick, OR0, OT0, bv, td, tm, cd, cm, inflight, fd}
          out[#out + 1] = R
          out[#out + 1] = usedT
          out[#out + 1] = oldR
          out[#out + 1] = oldT
        end
        -- One write per key (HSET of the changed fields): the request's counts when admitted, the carried commits' deltas
        -- either way; expiries refreshed when the window moved or a key may have just been created.
        local admit = refused == nil
        for i = 1, n do
          local w, b, f = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
          local x, s = fold[i], state[i]
          local R, T, OR, OT, rs, ts, tick, OR0, OT0 = s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]
          local bv, inflight = s[10], s[15]
          local addT, addC = 0, 0
          if admit then
            addT, addC = tokens, cost
            R, rs, T, ts = R + 1, rs + 1, T + tokens, ts + tokens
            if OR == 0 then OR = sec end
            if tokens ~= 0 and OT == 0 then OT = sec end
          end
          -- Refused, the window is written only when a carried delta landed in it (then the key exists: it was written
          -- within the minute); admitted, it may be new, and gets its expiry when the window moved or was empty.
          if admit or x.window then
            local set = {'R', R, 'T', T, 'CR', rs, 'CT', ts}
            -- Unless the window moved (or was empty), E and C already hold sec - 59 and sec.
            if tick then
              set[#set + 1] = 'E'
              set[#set + 1] = sec - 59
              set[#set + 1] = 'C'
              set[#set + 1] = sec
            end
            if tick or OR ~= OR0 then
              set[#set + 1] = 'OR'
              set[#set + 1] = OR
            end
            if tick or OT ~= OT0 then
              set[#set + 1] = 'OT'
              set[#set + 1] = OT
            end
            redis.call('HSET', w, unpack(set))
            if tick then redis.call('PEXPIRE', w, 120000) end
          end
          if admit then
            redis.call('ZADD', f, nowms + leasems, ARGV[3])
            -- The in-flight set may have just been created (emptied sets vanish) unless it is known to have held other leases.
            local newf = tick or inflight == 0
            if inflight < 0 then
              newf = #x.leases == 0 or redis.call('ZREM', f, unpack(x.leases)) == 0
            end
            if newf then redis.call('PEXPIRE', f, leasems + 60000) end
          elseif #x.leases > 0 then
            redis.call('ZREM', f, unpack(x.leases))
          end
          local set = {}
          local fresh = false
          local fd = s[16]
          local values = {s[11] + addT, s[12] + addT, s[13] + addC, s[14] + addC}
          local deltas = {fd[1] + addT, fd[2] + addT, fd[3] + addC, fd[4] + addC}
          for v = 1, 4 do
            if deltas[v] ~= 0 then
              set[#set + 1] = names[v]
              set[#set + 1] = values[v]
              if bv[v] == false then fresh = true end
            end
          end
          if #set > 0 then redis.call('HSET', b, unpack(set)) end
          if fresh and redis.call('HLEN', b) > 8 then
            local keep = {[names[1]] = 1, [names[2]] = 1, [names[3]] = 1, [names[4]] = 1}
            for _, k in ipairs(redis.call('HKEYS', b)) do
              if not keep[k] then redis.call('HDEL', b, k) end
            end
          end
          if (admit and tick) or fresh then redis.call('PEXPIRE', b, 2764800000) end
        end
        if refused then return refused end
        return out
        """);

    // Pending commits of one slot that no reservation carried (ARGV and KEYS as the commit part of reserve).
    private static readonly Script s_commit = new(Commits + """

        apply_commits(1, 1)
        return 1
        """);

    // KEYS as for reserve; ARGV: clock override ms. Returns per scope: usedR, usedT, inflight, td, tm, cd, cm. Read-only.
    private static readonly Script s_read = new(CivilMonth + "\n" + Window + """

        local nowms = tonumber(ARGV[1])
        if nowms == 0 then
          local t = redis.call('TIME')
          nowms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local sec = math.floor(nowms / 1000)
        local day = math.floor(sec / 86400)
        local month = civil_month(day)
        local out = {}
        for i = 1, #KEYS / 3 do
          local w, b, f = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
          local R, T = roll(w, sec, false)
          local inflight = redis.call('ZCOUNT', f, nowms, '+inf')
          local bv = redis.call('HMGET', b, 'td:' .. day, 'tm:' .. month, 'cd:' .. day, 'cm:' .. month)
          out[#out + 1] = R
          out[#out + 1] = math.max(T, 0)
          out[#out + 1] = inflight
          out[#out + 1] = tonumber(bv[1]) or 0
          out[#out + 1] = tonumber(bv[2]) or 0
          out[#out + 1] = tonumber(bv[3]) or 0
          out[#out + 1] = tonumber(bv[4]) or 0
        end
        return out
        """);

    private readonly ConnectionMultiplexer _redis;
    private readonly TimeSpan _breakDuration;
    private readonly TimeProvider? _testClock;
    private readonly ILogger<RedisLimitStore> _logger;
    private readonly Lock _pendingLock = new();
    private readonly Dictionary<string, List<PendingCommit>> _pending = new(StringComparer.Ordinal);
    private readonly Timer _flushTimer;
    private bool _flushArmed; // under _pendingLock: at most one timer change per delay, not one per request
    /// <summary>
    /// Failed calls in a row that open the circuit. One was enough before: a single 500-ms stall of a busy host then
    /// refused every request of the fail-closed agencies for the whole break (32 863 503s in a 20-s load-test slice).
    /// A dead Redis still opens it within one timeout: concurrent requests fail together.
    /// </summary>
    internal const int FailuresToOpen = 3;

    private long _openUntilTicks;
    private int _probing;
    private int _failuresInARow;

    private RedisLimitStore(ConnectionMultiplexer redis, TimeSpan breakDuration, TimeProvider? testClock, ILogger<RedisLimitStore> logger)
    {
        _redis = redis;
        _breakDuration = breakDuration;
        _testClock = testClock;
        _logger = logger;
        _flushTimer = new Timer(static state => ((RedisLimitStore)state!).FlushPending(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>How long a commit waits for a reservation of its slot to carry it before it is sent on its own.</summary>
    internal static readonly TimeSpan CommitDelay = TimeSpan.FromMilliseconds(20);

    /// <summary>Most commits one script carries.</summary>
    private const int MaxCarried = 256;

    /// <summary>The reconciliation of one request in one slot, waiting to be sent.</summary>
    private sealed record PendingCommit(IReadOnlyList<LimitScope> Scopes, long Second, long Day, long Month, long DeltaTokens, long DeltaCost, string Lease);

    /// <summary>Connects without waiting for Redis to be up (it may come later; the breaker covers the gap).</summary>
    /// <param name="testClock">Only for tests of period roll-over: replaces Redis TIME.</param>
    public static RedisLimitStore Connect(string configuration, string? password, int timeoutMilliseconds, TimeSpan breakDuration, ILogger<RedisLimitStore> logger, TimeProvider? testClock = null) =>
        new(RedisConnection.Connect(configuration, password, timeoutMilliseconds, "aigateway"), breakDuration, testClock, logger);

    public async ValueTask<LimitCheck> ReserveAsync(IReadOnlyList<LimitScope> scopes, long tokens, long costMicros, CancellationToken cancellationToken)
    {
        var lease = Model.Uuid.NewHex();
        var groups = GroupBySlot(scopes);
        if (groups.Count == 1)
        {
            return await ReserveSlotAsync(groups[0], tokens, costMicros, lease);
        }

        // Scopes of different slots (a model's capacity limit) need one script each; they run concurrently and
        // a refusal in one slot gives back what the others reserved.
        var checks = await Task.WhenAll(groups.Select(g => ReserveSlotAsync(g, tokens, costMicros, lease)));
        var refused = Array.Find(checks, c => !c.Allowed);
        if (refused is not null)
        {
            foreach (var check in checks)
            {
                if (check.Allowed)
                {
                    var r = check.Reservation!;
                    Defer(new PendingCommit(r.Scopes, r.BucketSecond, r.Day, r.Month, -r.Tokens, -r.CostMicros, r.LeaseId));
                }
            }

            return refused;
        }

        var headroom = LimitHeadroom.None;
        foreach (var check in checks)
        {
            headroom = Merge(headroom, check.Headroom);
        }

        var first = checks[0].Reservation!;
        return new LimitCheck(true, first with { Scopes = scopes }, headroom);
    }

    /// <summary>
    /// Reconciliation is not a round trip of its own: it waits (at most <see cref="CommitDelay"/>) for the next
    /// reservation in its slot from this replica, which applies it in the same script before its own checks; when none
    /// comes in time, one script sends every commit pending for the slot. This replica's next request therefore always
    /// sees its earlier requests reconciled and their leases released; another replica sees them within the delay.
    /// </summary>
    public ValueTask CommitAsync(LimitReservation reservation, long actualTokens, long actualCostMicros, CancellationToken cancellationToken)
    {
        foreach (var group in GroupBySlot(reservation.Scopes))
        {
            Defer(new PendingCommit(group, reservation.BucketSecond, reservation.Day, reservation.Month, actualTokens - reservation.Tokens, actualCostMicros - reservation.CostMicros, reservation.LeaseId));
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask<IReadOnlyList<ScopeUsage>> ReadAsync(IReadOnlyList<LimitScope> scopes, CancellationToken cancellationToken)
    {
        var result = new List<ScopeUsage>(scopes.Count);
        foreach (var group in GroupBySlot(scopes))
        {
            SendPending(group[0].Slot); // ordered before the read on the same connection
            var values = (long[])(await RunAsync(s_read, Keys(group, 0), [ClockOverride()]))!;
            for (var i = 0; i < group.Count; i++)
            {
                var o = i * 7;
                result.Add(new ScopeUsage(group[i].Name, group[i].Limits, values[o], values[o + 1], values[o + 2], values[o + 3], values[o + 4], values[o + 5], values[o + 6]));
            }
        }

        return result;
    }

    private async Task<LimitCheck> ReserveSlotAsync(IReadOnlyList<LimitScope> scopes, long tokens, long costMicros, string lease)
    {
        var carried = TakePending(scopes[0].Slot);
        var carriedScopes = 0;
        foreach (var commit in carried)
        {
            carriedScopes += commit.Scopes.Count;
        }

        var keys = Keys(scopes, carriedScopes);
        var args = new RedisValue[7 + (scopes.Count * 7) + (carried.Count * 7)];
        args[0] = tokens;
        args[1] = costMicros;
        args[2] = lease;
        args[3] = (long)LimitPeriods.LeaseLifetime.TotalMilliseconds;
        args[4] = ClockOverride();
        args[5] = scopes.Count;
        for (var i = 0; i < scopes.Count; i++)
        {
            var l = scopes[i].Limits;
            var a = 6 + (i * 7);
            args[a] = l.RequestsPerMinute ?? -1;
            args[a + 1] = l.TokensPerMinute ?? -1;
            args[a + 2] = l.ConcurrentRequests ?? -1;
            args[a + 3] = l.TokensPerDay ?? -1;
            args[a + 4] = l.TokensPerMonth ?? -1;
            args[a + 5] = l.CostMicrosPerDay ?? -1;
            args[a + 6] = l.CostMicrosPerMonth ?? -1;
        }

        WriteCommits(carried, keys, scopes.Count * 3, args, 6 + (scopes.Count * 7));
        long[] values;
        try
        {
            values = (long[])(await RunAsync(s_reserve, keys, args))!;
        }
        catch (LimitStoreUnavailableException) when (carried.Count > 0)
        {
            Log.CommitsDropped(_logger, carried.Count);
            throw;
        }

        if (values[0] == 0)
        {
            var metric = (LimitMetric)values[2];
            var retryAfter = values[3] > 0 ? TimeSpan.FromSeconds(values[3]) : PeriodReset(metric);
            return new LimitCheck(false, null, LimitHeadroom.None, scopes[(int)values[1] - 1].Name, metric, values[4], retryAfter);
        }

        var second = values[1];
        var headroom = LimitHeadroom.None;
        for (var i = 0; i < scopes.Count; i++)
        {
            var o = 4 + (i * 4);
            headroom = EmbeddedLimitStore.Tighter(headroom, scopes[i].Limits, values[o] + 1, Reset(values[o + 2], second), values[o + 1] + tokens, Reset(values[o + 3], second));
        }

        return new LimitCheck(true, new LimitReservation(lease, scopes, tokens, costMicros, second, values[2], values[3], Local: false), headroom);
    }

    private void Defer(PendingCommit commit)
    {
        lock (_pendingLock)
        {
            var slot = commit.Scopes[0].Slot;
            if (!_pending.TryGetValue(slot, out var list))
            {
                list = [];
                _pending.Add(slot, list);
            }

            list.Add(commit);
            if (!_flushArmed)
            {
                ArmFlush();
            }
        }
    }

    /// <summary>The commits pending for <paramref name="slot"/>, at most <see cref="MaxCarried"/> (the rest wait).</summary>
    private List<PendingCommit> TakePending(string slot)
    {
        lock (_pendingLock)
        {
            if (!_pending.TryGetValue(slot, out var list) || list.Count == 0)
            {
                return [];
            }

            if (list.Count <= MaxCarried)
            {
                _pending.Remove(slot);
                return list;
            }

            var taken = list.GetRange(0, MaxCarried);
            list.RemoveRange(0, MaxCarried);
            return taken;
        }
    }

    /// <summary>Sends what no reservation carried in time (timer), one fire-and-forget script per slot.</summary>
    private void FlushPending()
    {
        string[] slots;
        lock (_pendingLock)
        {
            _flushArmed = false;
            slots = [.. _pending.Keys];
        }

        foreach (var slot in slots)
        {
            SendPending(slot);
        }

        lock (_pendingLock)
        {
            if (_pending.Count > 0 && !_flushArmed)
            {
                ArmFlush();
            }
        }
    }

    /// <summary>Under <see cref="_pendingLock"/>. After disposal (shutdown) the last flush has run; nothing is armed.</summary>
    private void ArmFlush()
    {
        try
        {
            _flushTimer.Change(CommitDelay, Timeout.InfiniteTimeSpan);
            _flushArmed = true;
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void SendPending(string slot)
    {
        while (TakePending(slot) is { Count: > 0 } commits)
        {
            var scopes = 0;
            foreach (var commit in commits)
            {
                scopes += commit.Scopes.Count;
            }

            var keys = new RedisKey[scopes * 3];
            var args = new RedisValue[1 + (commits.Count * 7)];
            WriteCommits(commits, keys, 0, args, 0);
            _ = SendCommitsAsync(keys, args, commits.Count);
        }
    }

    private async Task SendCommitsAsync(RedisKey[] keys, RedisValue[] args, int count)
    {
        try
        {
            await RunAsync(s_commit, keys, args, CommandFlags.FireAndForget);
        }
        catch (LimitStoreUnavailableException)
        {
            // The reservations stand as the charge (they were upper estimates); leases expire on their own.
            Log.CommitsDropped(_logger, count);
        }
    }

    private static void WriteCommits(List<PendingCommit> commits, RedisKey[] keys, int key, RedisValue[] args, int a)
    {
        args[a++] = commits.Count;
        foreach (var c in commits)
        {
            args[a] = c.Scopes.Count;
            args[a + 1] = c.Second;
            args[a + 2] = c.Day;
            args[a + 3] = c.Month;
            args[a + 4] = c.DeltaTokens;
            args[a + 5] = c.DeltaCost;
            args[a + 6] = c.Lease;
            a += 7;
            foreach (var scope in c.Scopes)
            {
                keys[key++] = scope.Keys.Window;
                keys[key++] = scope.Keys.Budget;
                keys[key++] = scope.Keys.InFlight;
            }
        }
    }

    private async Task<RedisResult> RunAsync(Script script, RedisKey[] keys, RedisValue[] args, CommandFlags flags = CommandFlags.None)
    {
        var now = Environment.TickCount64;
        var openUntil = Volatile.Read(ref _openUntilTicks);
        if (now < openUntil)
        {
            throw new LimitStoreUnavailableException("The limit store circuit is open after a recent failure.");
        }

        // After the break, let one probe through; the others keep failing fast until it answers.
        if (openUntil != 0 && Interlocked.CompareExchange(ref _probing, 1, 0) != 0)
        {
            throw new LimitStoreUnavailableException("The limit store is being probed after a failure.");
        }

        try
        {
            var db = _redis.GetDatabase();
            RedisResult result;
            if ((flags & CommandFlags.FireAndForget) != 0)
            {
                // No reply to look at: the text overload, which loads the script on a connection that lacks it.
                result = await db.ScriptEvaluateAsync(script.Text, keys, args, flags);
            }
            else
            {
                try
                {
                    // EVALSHA by the precomputed digest: the text overload looks the script up by its text (hashing
                    // kilobytes of Lua on every call, ~2 % of gateway-full's CPU).
                    result = await db.ScriptEvaluateAsync(script.Sha1, keys, args, flags);
                }
                catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
                {
                    // A restarted or flushed Redis: EVAL loads it again.
                    result = await db.ScriptEvaluateAsync(script.Text, keys, args, flags);
                }
            }

            if (Volatile.Read(ref _failuresInARow) != 0)
            {
                Volatile.Write(ref _failuresInARow, 0);
            }

            if (openUntil != 0)
            {
                Volatile.Write(ref _openUntilTicks, 0);
                Log.StoreRecovered(_logger);
            }

            return result;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // A failed probe counts too (nothing reset the count), so it opens the circuit again at once.
            var failures = Interlocked.Increment(ref _failuresInARow);
            if (failures >= FailuresToOpen)
            {
                Volatile.Write(ref _openUntilTicks, Environment.TickCount64 + (long)_breakDuration.TotalMilliseconds);
                Log.StoreFailed(_logger, _breakDuration.TotalSeconds, ex.GetType().Name);
            }
            else
            {
                Log.StoreCallFailed(_logger, ex.GetType().Name, failures);
            }

            throw new LimitStoreUnavailableException("The limit store did not answer.", ex);
        }
        finally
        {
            if (openUntil != 0)
            {
                Volatile.Write(ref _probing, 0);
            }
        }
    }

    /// <summary>A Lua script and its SHA-1 digest, the name Redis caches it under (<c>EVALSHA</c>).</summary>
    private sealed class Script(string text)
    {
        public string Text { get; } = text;

        public byte[] Sha1 { get; } = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text));
    }

    private long ClockOverride() => _testClock?.GetUtcNow().ToUnixTimeMilliseconds() ?? 0;

    private TimeSpan PeriodReset(LimitMetric metric)
    {
        var now = (_testClock ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        return metric is LimitMetric.TokensPerMonth or LimitMetric.CostPerMonth ? LimitPeriods.UntilNextMonth(now) : LimitPeriods.UntilNextDay(now);
    }

    private static TimeSpan Reset(long oldestSecond, long now) => TimeSpan.FromSeconds(Math.Max(1, oldestSecond + 60 - now));

    /// <summary>The scopes' keys, with room for <paramref name="extraScopes"/> more after them.</summary>
    private static RedisKey[] Keys(IReadOnlyList<LimitScope> scopes, int extraScopes)
    {
        var keys = new RedisKey[(scopes.Count + extraScopes) * 3];
        for (var i = 0; i < scopes.Count; i++)
        {
            keys[i * 3] = scopes[i].Keys.Window;
            keys[(i * 3) + 1] = scopes[i].Keys.Budget;
            keys[(i * 3) + 2] = scopes[i].Keys.InFlight;
        }

        return keys;
    }

    private static List<IReadOnlyList<LimitScope>> GroupBySlot(IReadOnlyList<LimitScope> scopes)
    {
        // Nearly always one slot (a caller's scopes share its hash tag): the list itself, no copies.
        var single = scopes.Count > 0;
        for (var i = 1; i < scopes.Count && single; i++)
        {
            single = scopes[i].Slot == scopes[0].Slot;
        }

        if (single)
        {
            return [scopes];
        }

        var groups = new List<IReadOnlyList<LimitScope>>(2); // empty for no scopes
        foreach (var scope in scopes)
        {
            List<LimitScope>? group = null;
            foreach (var candidate in groups)
            {
                if (candidate[0].Slot == scope.Slot)
                {
                    group = (List<LimitScope>)candidate;
                    break;
                }
            }

            if (group is null)
            {
                groups.Add(new List<LimitScope> { scope });
            }
            else
            {
                group.Add(scope);
            }
        }

        return groups;
    }

    /// <summary>The tighter of two headrooms, for requests and for tokens separately.</summary>
    private static LimitHeadroom Merge(LimitHeadroom a, LimitHeadroom b)
    {
        var requests = a.RemainingRequests is null || (b.RemainingRequests is not null && b.RemainingRequests < a.RemainingRequests) ? b : a;
        var tokens = a.RemainingTokens is null || (b.RemainingTokens is not null && b.RemainingTokens < a.RemainingTokens) ? b : a;
        return new(requests.RequestLimit, requests.RemainingRequests, requests.ResetRequests, tokens.TokenLimit, tokens.RemainingTokens, tokens.ResetTokens);
    }

    /// <summary>One PING round trip, bypassing the breaker (readiness probe).</summary>
    public Task<TimeSpan> PingAsync() => _redis.GetDatabase().PingAsync();

    public async ValueTask DisposeAsync()
    {
        await _flushTimer.DisposeAsync();
        FlushPending();
        await RedisConnection.CloseAsync(_redis); // the last reconciliations included
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.LimitStoreFailed, LogLevel.Error, "The Redis limit store failed ({Error}); requests skip it for {Seconds} s and the agencies' failure policies apply.", EventName = "LimitStoreFailed")]
        public static partial void StoreFailed(ILogger logger, double seconds, string error);

        [LoggerMessage(EventIds.LimitStoreCallFailed, LogLevel.Warning, "A call to the Redis limit store failed ({Error}; {Count} in a row); that request's agency failure policy applies.", EventName = "LimitStoreCallFailed")]
        public static partial void StoreCallFailed(ILogger logger, string error, int count);

        [LoggerMessage(EventIds.LimitStoreRecovered, LogLevel.Information, "The Redis limit store answers again.", EventName = "LimitStoreRecovered")]
        public static partial void StoreRecovered(ILogger logger);

        [LoggerMessage(EventIds.LimitCommitFailed, LogLevel.Warning, "{Count} reconciliation(s) could not be sent to the Redis limit store; their reservations stand.", EventName = "LimitCommitsDropped")]
        public static partial void CommitsDropped(ILogger logger, int count);
    }
}
