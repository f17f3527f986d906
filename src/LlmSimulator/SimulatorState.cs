namespace LlmSimulator;

/// <summary>Everything one simulator instance shares between requests.</summary>
internal sealed class SimulatorState(SimulatorOptions options, FaultPlan faults, RequestRecorder? recorder)
{
    private long _nextId;

    public SimulatorOptions Options { get; } = options;

    public FaultPlan Faults { get; } = faults;

    /// <summary>Null when the host cannot read recordings back (standalone), so nothing is kept.</summary>
    public RequestRecorder? Recorder { get; } = recorder;

    public long NextId() => Interlocked.Increment(ref _nextId);
}
