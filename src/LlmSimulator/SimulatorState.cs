namespace LlmSimulator;

/// <summary>Everything one simulator instance shares between requests.</summary>
internal sealed class SimulatorState(SimulatorOptions options, FaultPlan faults, RequestRecorder? recorder)
{
    private long _nextId;
    private int _abortedRequests;
    private int _completedStreams;

    public SimulatorOptions Options { get; } = options;

    public FaultPlan Faults { get; } = faults;

    /// <summary>Null when the host cannot read recordings back (standalone), so nothing is kept.</summary>
    public RequestRecorder? Recorder { get; } = recorder;

    public long NextId() => Interlocked.Increment(ref _nextId);

    public int AbortedRequests => Volatile.Read(ref _abortedRequests);

    public int CompletedStreams => Volatile.Read(ref _completedStreams);

    public void OnRequestAborted() => Interlocked.Increment(ref _abortedRequests);

    public void OnStreamCompleted() => Interlocked.Increment(ref _completedStreams);
}
