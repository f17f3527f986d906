namespace AiGateway.Scim;

/// <summary>
/// Coalesces the per-request activity records of this replica (last use, requests and tokens per day) so the
/// shared store receives one write per caller, model, day and outcome per flush interval instead of one per request.
/// Access review reads last use by the day and the minute; the interval (1 s) and a flush before every read keep it
/// current, and the store flushes on shutdown.
/// </summary>
internal sealed class ActivityBuffer
{
    private readonly Lock _lock = new();
    private Dictionary<ActivityKey, ActivityTotals> _pending = [];

    /// <summary>Adds one request's activity.</summary>
    public void Add(string agency, ActivityRecord record)
    {
        var key = new ActivityKey(agency, record.SubjectId, record.Model ?? string.Empty, DirectoryDays.Of(record.At), record.Allowed);
        lock (_lock)
        {
            if (!_pending.TryGetValue(key, out var totals))
            {
                totals = new ActivityTotals(record);
                _pending.Add(key, totals);
            }

            totals.Requests++;
            totals.Tokens += record.Tokens;
            if (record.At >= totals.Latest.At)
            {
                totals.Latest = record;
            }
        }
    }

    /// <summary>Everything added since the last call.</summary>
    public Dictionary<ActivityKey, ActivityTotals> Drain()
    {
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return _pending;
            }

            var drained = _pending;
            _pending = [];
            return drained;
        }
    }
}

internal readonly record struct ActivityKey(string Agency, string SubjectId, string Model, int Day, bool Allowed);

/// <summary>The requests and tokens of one <see cref="ActivityKey"/>; <see cref="Latest"/> supplies last use and the caller's metadata.</summary>
internal sealed class ActivityTotals(ActivityRecord latest)
{
    public ActivityRecord Latest { get; set; } = latest;

    public long Requests { get; set; }

    public long Tokens { get; set; }
}
