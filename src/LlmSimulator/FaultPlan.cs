namespace LlmSimulator;

/// <summary>
/// Instance-level fault injection, programmed by tests. Thread-safe. Each counter counts the next N
/// requests independently; instance faults take precedence over per-request directives.
/// </summary>
public sealed class FaultPlan
{
    private readonly Lock _gate = new();
    private int _failCount;
    private int _failStatus;
    private int? _failRetryAfter;
    private int _alwaysStatus;
    private int? _alwaysRetryAfter;
    private int _resetCount;
    private int _delayCount;
    private int _delayMs;

    /// <summary>The next <paramref name="count"/> requests answer <paramref name="statusCode"/> with an error body.</summary>
    public void FailNext(int count, int statusCode, int? retryAfterSeconds = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ValidateStatus(statusCode);
        lock (_gate)
        {
            _failCount = count;
            _failStatus = statusCode;
            _failRetryAfter = retryAfterSeconds;
        }
    }

    /// <summary>Every request answers <paramref name="statusCode"/> with an error body until <see cref="Clear"/>.</summary>
    public void FailAlways(int statusCode, int? retryAfterSeconds = null)
    {
        ValidateStatus(statusCode);
        lock (_gate)
        {
            _alwaysStatus = statusCode;
            _alwaysRetryAfter = retryAfterSeconds;
        }
    }

    /// <summary>The next <paramref name="count"/> requests have their connection aborted before any response byte.</summary>
    public void ResetNext(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            _resetCount = count;
        }
    }

    /// <summary>The next <paramref name="count"/> requests wait <paramref name="delayMs"/> before sending headers.</summary>
    public void DelayNext(int count, int delayMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(delayMs);
        lock (_gate)
        {
            _delayCount = count;
            _delayMs = delayMs;
        }
    }

    /// <summary>Removes every programmed fault.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _failCount = 0;
            _failStatus = 0;
            _failRetryAfter = null;
            _alwaysStatus = 0;
            _alwaysRetryAfter = null;
            _resetCount = 0;
            _delayCount = 0;
            _delayMs = 0;
        }
    }

    internal FaultDecision Take()
    {
        lock (_gate)
        {
            var decision = default(FaultDecision);
            if (_delayCount > 0)
            {
                _delayCount--;
                decision.DelayMs = _delayMs;
            }

            if (_resetCount > 0)
            {
                _resetCount--;
                decision.Reset = true;
            }

            if (_failCount > 0)
            {
                _failCount--;
                decision.StatusCode = _failStatus;
                decision.RetryAfterSeconds = _failRetryAfter;
            }
            else if (_alwaysStatus != 0)
            {
                decision.StatusCode = _alwaysStatus;
                decision.RetryAfterSeconds = _alwaysRetryAfter;
            }

            return decision;
        }
    }

    private static void ValidateStatus(int statusCode)
    {
        // Only error statuses: the simulator always pairs an injected status with an error body.
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
    }
}

/// <summary>What the instance fault plan says about one request.</summary>
internal struct FaultDecision
{
    public int DelayMs;
    public bool Reset;
    public int StatusCode;
    public int? RetryAfterSeconds;
}
