using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using AiGateway.Telemetry;

namespace AiGateway.Audit;

/// <summary>
/// Takes one <see cref="AuditEvent"/> per request from the request path (a non-blocking write into a bounded
/// channel) and, on one background loop, serialises it to OCSF, exports it over OTLP and appends it to the
/// journal. Events are written and fsynced in batches: the first event of a batch waits at most the flush window
/// for others to join it, which is all a crash can lose. When the journal cannot be written the batch is kept
/// and retried, <see cref="IsAvailable"/> turns false (the agency policy then decides: fail-closed refuses new
/// requests, fail-open serves and alerts), and events beyond the queue capacity are dropped and counted.
/// The host's stop drains the queue after the server has finished its requests (<see cref="StoppedAsync"/>).
/// </summary>
internal sealed partial class AuditRecorder : IHostedLifecycleService, IDisposable
{
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(1);

    /// <summary>How often the writer takes what has arrived during a flush window (see <see cref="Run"/>).</summary>
    private static readonly TimeSpan s_sliceInterval = TimeSpan.FromMilliseconds(5);

    private readonly Channel<AuditEvent> _channel;
    private readonly AuditSettings _settings;
    private readonly string _dataDirectory;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditRecorder> _logger;
    private readonly Func<AuditJournal> _createJournal;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _signalLock = new();
    private TaskCompletionSource _flushed = NewSignal();
    private AuditJournal? _journal;
    private readonly List<AuditEvent> _contentPending = []; // written to the audit journal, not yet to the content journal
    private AuditJournal? _contentJournal;
    private ArrayBufferWriter<byte>? _contentBuffer;
    private volatile bool _contentAvailable = true;
    private AuditOtlpExporter? _otlp;
    private Task? _loop;
    private volatile bool _journalAvailable;
    private volatile bool _completing;
    private int _disposed;
    private long _enqueued;
    private long _recorded;
    private long _dropped;
    private long _lost;
    private int _inWriter; // events taken from the queue by the writer and not yet durable (the queue-depth gauge counts them)

    public AuditRecorder(GatewayPaths paths, Configuration.GatewayConfigStore config, GatewayMetrics metrics, TimeProvider time, ILogger<AuditRecorder> logger)
        : this(config.Current.Audit, paths.DataDirectory, metrics, time, logger)
    {
    }

    internal AuditRecorder(AuditSettings settings, string dataDirectory, GatewayMetrics metrics, TimeProvider time, ILogger<AuditRecorder> logger)
    {
        _settings = settings;
        _dataDirectory = dataDirectory;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        JournalDirectory = ResolveJournalDirectory(settings, dataDirectory);
        ContentJournalDirectory = JournalDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + "-content";
        _channel = Channel.CreateBounded<AuditEvent>(new BoundedChannelOptions(settings.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of dropping silently
        });
        _createJournal = () =>
        {
            var (key, _, _) = AuditSigningKey.Resolve(_settings, _dataDirectory);
            return new AuditJournal(JournalDirectory, key, _settings.RotationBytes, _settings.RotationInterval, _time);
        };
        metrics.ObserveAuditQueue(() => _channel.Reader.Count + Volatile.Read(ref _inWriter));
    }

    /// <summary>Where the journal is written.</summary>
    public string JournalDirectory { get; }

    /// <summary>Where the prompt and answer text of agencies with <c>audit.captureContent</c> is written (created on first use).</summary>
    public string ContentJournalDirectory { get; }

    /// <summary>False while captured content cannot be written to the content journal (fail-closed agencies that capture content are then refused).</summary>
    public bool IsContentAvailable => _contentAvailable;

    /// <summary>False while audit events cannot be made durable (journal failing, or queue full).</summary>
    public bool IsAvailable => _journalAvailable && _channel.Reader.Count < _settings.QueueCapacity;

    public long EnqueuedCount => Interlocked.Read(ref _enqueued);

    /// <summary>Events written and fsynced to the journal.</summary>
    public long RecordedCount => Interlocked.Read(ref _recorded);

    /// <summary>Events refused because the queue was full (must stay 0).</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    public static string ResolveJournalDirectory(AuditSettings settings, string dataDirectory) =>
        settings.JournalDirectory is { } dir ? Path.GetFullPath(dir, dataDirectory) : Path.Combine(dataDirectory, "audit");

    /// <summary>Records the metrics of a finished request and queues its audit event; never blocks.</summary>
    public void Record(AuditEvent auditEvent)
    {
        _metrics.RequestCompleted(auditEvent);
        if (_channel.Writer.TryWrite(auditEvent))
        {
            Interlocked.Increment(ref _enqueued);
            return;
        }

        Interlocked.Increment(ref _dropped);
        _metrics.AuditDropped();
        Log.AuditEventDropped(_logger, auditEvent.RequestId, AuditEvent.DecisionName(auditEvent.Decision));
    }

    /// <summary>Waits until every event queued so far is in the journal (tests, diagnostics).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var target = EnqueuedCount;
        while (RecordedCount + Interlocked.Read(ref _lost) < target)
        {
            Task signal;
            lock (_signalLock)
            {
                signal = _flushed.Task;
            }

            if (RecordedCount + Interlocked.Read(ref _lost) >= target)
            {
                break;
            }

            await signal.WaitAsync(cancellationToken);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_settings.Otlp is { } otlp)
        {
            _otlp = new AuditOtlpExporter(otlp, Environment.MachineName);
        }

        TryOpenJournal();
        // A thread of its own, not the thread pool's: the loop blocks in fsync and serialises a whole batch at a time,
        // which on a pool thread holds up request work (with one core the pool has a single worker).
        _loop = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // The server may still be finishing requests while hosted services stop: drain once it has stopped.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After the server has stopped: completes the queue, writes everything left and seals the journal.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _completing = true;
        _channel.Writer.TryComplete();
        if (_loop is not null)
        {
            try
            {
                await _loop.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The host's shutdown timeout: stop retrying what cannot be written.
                await _stopping.CancelAsync();
                await _loop.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        if (_loop is null || _loop.IsCompleted)
        {
            DrainContent();
        }

        CloseJournal();
        _otlp?.Dispose();
        _otlp = null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _completing = true;
        _channel.Writer.TryComplete();
        _stopping.Cancel();
        _loop?.Wait(TimeSpan.FromSeconds(5));
        CloseJournal();
        _otlp?.Dispose();
        _stopping.Dispose();
    }

    private void CloseJournal()
    {
        var journal = Interlocked.Exchange(ref _journal, null);
        try
        {
            journal?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.JournalWriteFailed(_logger, JournalDirectory, ex);
        }

        var content = Interlocked.Exchange(ref _contentJournal, null);
        try
        {
            content?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.JournalWriteFailed(_logger, ContentJournalDirectory, ex);
        }
    }

    /// <summary>Takes the content of events just made durable in the audit journal (bounded like the queue; beyond it content is dropped).</summary>
    private void QueueContent(List<AuditEvent> batch)
    {
        foreach (var e in batch)
        {
            if (e.Content is null)
            {
                continue;
            }

            if (_contentPending.Count >= _settings.QueueCapacity)
            {
                Interlocked.Increment(ref _dropped);
                _metrics.AuditDropped();
                Log.AuditEventDropped(_logger, e.RequestId, AuditEvent.DecisionName(e.Decision));
                continue;
            }

            _contentPending.Add(e);
        }
    }

    /// <summary>Writes pending content to the content journal (a second <see cref="AuditJournal"/>: same chain and signed checkpoints); kept for a retry on failure.</summary>
    private bool TryWriteContent()
    {
        if (_contentPending.Count == 0)
        {
            return TryCheckpointContent();
        }

        AuditJournal? journal = _contentJournal;
        try
        {
            if (journal is null)
            {
                var (key, _, _) = AuditSigningKey.Resolve(_settings, _dataDirectory);
                journal = new AuditJournal(ContentJournalDirectory, key, _settings.RotationBytes, _settings.RotationInterval, _time);
                journal.Open();
                _contentJournal = journal;
                Log.JournalOpened(_logger, journal.CurrentFile ?? ContentJournalDirectory);
            }

            var buffer = _contentBuffer ??= new ArrayBufferWriter<byte>(16 * 1024);
            foreach (var e in _contentPending)
            {
                buffer.ResetWrittenCount();
                AuditContent.Write(e, e.Content!, buffer);
                journal.Append(buffer.WrittenSpan);
            }

            journal.Flush();
            _contentPending.Clear();
            if (!_contentAvailable)
            {
                _contentAvailable = true;
                Log.JournalRecovered(_logger, ContentJournalDirectory);
            }

            return TryCheckpointContent();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            journal?.Abandon();
            _contentJournal = null;
            _metrics.AuditJournalFailed();
            if (_contentAvailable)
            {
                Log.JournalUnavailable(_logger, ContentJournalDirectory, ex);
            }

            _contentAvailable = false;
            return false;
        }
    }

    private bool TryCheckpointContent()
    {
        if (_contentJournal is not { } journal || journal.EventsSinceCheckpoint == 0 || _time.GetUtcNow() - journal.LastCheckpoint < _settings.CheckpointInterval)
        {
            return true;
        }

        try
        {
            journal.Checkpoint("interval");
            journal.Flush();
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            journal.Abandon();
            _contentJournal = null;
            _metrics.AuditJournalFailed();
            Log.JournalUnavailable(_logger, ContentJournalDirectory, ex);
            _contentAvailable = false;
            return false;
        }
    }

    /// <summary>At shutdown, after the loop: one last attempt for content that could not be written.</summary>
    private void DrainContent()
    {
        if (_contentPending.Count > 0 && !TryWriteContent())
        {
            Log.AuditEventsLost(_logger, _contentPending.Count, ContentJournalDirectory);
            _contentPending.Clear();
        }
    }

    private bool TryOpenJournal()
    {
        if (_journal is not null)
        {
            return true;
        }

        AuditJournal? journal = null;
        try
        {
            journal = _createJournal();
            journal.Open();
            _journal = journal;
            if (!_journalAvailable)
            {
                _journalAvailable = true;
                Log.JournalOpened(_logger, journal.CurrentFile ?? JournalDirectory);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            journal?.Abandon();
            MarkUnavailable(ex);
            return false;
        }
    }

    private void MarkUnavailable(Exception ex)
    {
        _metrics.AuditJournalFailed();
        if (_journalAvailable || _journal is null)
        {
            Log.JournalUnavailable(_logger, JournalDirectory, ex);
        }

        _journalAvailable = false;
    }

    /// <summary>The writer loop, on its own thread: waits for events, lets a batch gather for the flush window, writes it.</summary>
    private void Run()
    {
        Thread.CurrentThread.Name = "audit-writer";
        try
        {
            RunLoop();
        }
        catch (Exception ex)
        {
            // A bug, not an I/O failure (those are handled and retried): say so loudly and stop accepting requests of
            // fail-closed agencies rather than let events pile up unrecorded behind a dead writer.
            _journalAvailable = false;
            Log.WriterFailed(_logger, ex);
            Signal();
        }
    }

    private void RunLoop()
    {
        var reader = _channel.Reader;
        var taken = new List<AuditEvent>(256); // taken from the queue, not serialised yet
        var batch = new EncodedBatch();
        while (true)
        {
            if (batch.Count == 0)
            {
                if (!reader.TryRead(out var first))
                {
                    if (reader.Completion.IsCompleted)
                    {
                        break;
                    }

                    WaitForEvents(reader, IdleTimeout());
                    OnTimer();
                    continue;
                }

                taken.Add(first);

                // Group commit: the first event waits the flush window for concurrent requests to join its batch, and
                // one write + fsync covers them all. During the window the loop wakes every slice interval to serialise,
                // export and append what has arrived, so that work is spread over the window: done in one go at its
                // end it was a burst of several milliseconds of CPU (hundreds of events) that the requests sharing the
                // core waited behind, which showed in their p99. Not a wake-up per event either: that was a thread hop
                // and a timer per request.
                if (!_completing && _settings.FlushWindow > TimeSpan.Zero)
                {
                    var deadline = Stopwatch.GetTimestamp() + (long)(_settings.FlushWindow.TotalSeconds * Stopwatch.Frequency);
                    while (true)
                    {
                        Take(reader, taken, batch.Count);
                        Prepare(taken, batch);
                        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                        if (left <= TimeSpan.Zero || _completing || batch.Count >= _settings.QueueCapacity)
                        {
                            break;
                        }

                        // Whole milliseconds, rounded up: a wait of less than one would return at once and spin.
                        var wait = left < s_sliceInterval ? TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)) : s_sliceInterval;
                        if (_stopping.Token.WaitHandle.WaitOne(wait))
                        {
                            break;
                        }
                    }
                }

                Take(reader, taken, batch.Count);
            }

            Prepare(taken, batch);
            if (TryWriteBatch(batch))
            {
                QueueContent(batch.WithContent);
                TryWriteContent();
                Interlocked.Add(ref _recorded, batch.Count);
                batch.Clear();
                Volatile.Write(ref _inWriter, 0);
                Signal();
                continue;
            }

            if (_stopping.IsCancellationRequested || _completing)
            {
                // Shutting down with a journal that cannot be written: say how many events are lost, do not hang the stop.
                Interlocked.Add(ref _lost, batch.Count);
                Log.AuditEventsLost(_logger, batch.Count, JournalDirectory);
                batch.Clear();
                Volatile.Write(ref _inWriter, 0);
                Signal();
                continue;
            }

            // Retry the same batch; meanwhile new events wait in the bounded queue.
            Task.Delay(s_retryDelay, _time, _stopping.Token).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Wait();
        }
    }

    /// <summary>Moves queued events into <paramref name="taken"/>, up to the queue capacity for the whole batch.</summary>
    private void Take(ChannelReader<AuditEvent> reader, List<AuditEvent> taken, int inBatch)
    {
        while (inBatch + taken.Count < _settings.QueueCapacity && reader.TryRead(out var next))
        {
            taken.Add(next);
        }

        Volatile.Write(ref _inWriter, inBatch + taken.Count);
    }

    /// <summary>
    /// Serialises the taken events to OCSF into the batch (once: the same bytes go to OTLP and to the journal, and
    /// again on a retry), exports them over OTLP and appends them to the open journal's pending buffer (hash chain, no
    /// I/O). The events themselves are let go (unless they carry captured content): the batch lives up to the flush
    /// window, and holding each request's objects that long moved them out of the youngest GC generation.
    /// </summary>
    private void Prepare(List<AuditEvent> taken, EncodedBatch batch)
    {
        foreach (var e in taken)
        {
            var json = batch.Add(e);
            _otlp?.Export(e, Encoding.UTF8.GetString(json));
        }

        taken.Clear();
        if (_journal is { } journal)
        {
            AppendNew(journal, batch);
        }
    }

    /// <summary>Appends the batch's events not in the journal's pending buffer yet.</summary>
    private static void AppendNew(AuditJournal journal, EncodedBatch batch)
    {
        for (; batch.Appended < batch.Count; batch.Appended++)
        {
            journal.Append(batch[batch.Appended]);
        }
    }

    /// <summary>Appends what is not in the journal yet, writes and fsyncs; on failure the journal is dropped and the whole batch is appended again to the next one.</summary>
    private bool TryWriteBatch(EncodedBatch batch)
    {
        if (!TryOpenJournal())
        {
            batch.Appended = 0;
            return false;
        }

        var journal = _journal!;
        try
        {
            AppendNew(journal, batch);
            journal.Flush();
            if (journal.EventsSinceCheckpoint > 0 && _time.GetUtcNow() - journal.LastCheckpoint >= _settings.CheckpointInterval)
            {
                journal.Checkpoint("interval");
                journal.Flush();
            }

            if (!_journalAvailable)
            {
                _journalAvailable = true;
                Log.JournalRecovered(_logger, JournalDirectory);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Whatever reached the file is cut at the torn line when the journal is reopened; the batch is re-appended.
            journal.Abandon();
            _journal = null;
            batch.Appended = 0;
            MarkUnavailable(ex);
            return false;
        }
    }

    /// <summary>How long the idle loop may sleep: until a checkpoint is due for unsealed events, or the next reopen attempt.</summary>
    private TimeSpan IdleTimeout()
    {
        var main = MainIdleTimeout();
        TimeSpan content;
        if (_contentPending.Count > 0)
        {
            content = s_retryDelay;
        }
        else if (_contentJournal is { EventsSinceCheckpoint: > 0 } contentJournal)
        {
            var due = contentJournal.LastCheckpoint + _settings.CheckpointInterval - _time.GetUtcNow();
            content = due > TimeSpan.Zero ? due : TimeSpan.Zero;
        }
        else
        {
            return main;
        }

        return main == Timeout.InfiniteTimeSpan || content < main ? content : main;
    }

    private TimeSpan MainIdleTimeout()
    {
        if (_journal is not { } journal)
        {
            return s_retryDelay;
        }

        if (journal.EventsSinceCheckpoint == 0)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var due = journal.LastCheckpoint + _settings.CheckpointInterval - _time.GetUtcNow();
        return due > TimeSpan.Zero ? due : TimeSpan.Zero;
    }

    private void OnTimer()
    {
        TryWriteContent();
        if (_journal is null)
        {
            TryOpenJournal();
            return;
        }

        var journal = _journal;
        if (journal.EventsSinceCheckpoint > 0 && _time.GetUtcNow() - journal.LastCheckpoint >= _settings.CheckpointInterval)
        {
            try
            {
                journal.Checkpoint("interval");
                journal.Flush();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                journal.Abandon();
                _journal = null;
                MarkUnavailable(ex);
            }
        }
    }

    /// <summary>Blocks the writer thread until data arrives, the timeout passes, the queue completes or the recorder stops.</summary>
    private void WaitForEvents(ChannelReader<AuditEvent> reader, TimeSpan timeout)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            timer.CancelAfter(timeout);
        }

        var waiting = reader.WaitToReadAsync(timer.Token).AsTask();
        if (!waiting.IsCompleted)
        {
            // Through a continuation, so a cancelled wait throws nothing; the loop looks at the queue again either way.
            waiting.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Wait();
        }
    }

    private void Signal()
    {
        TaskCompletionSource done;
        lock (_signalLock)
        {
            done = _flushed;
            _flushed = NewSignal();
        }

        done.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static partial class Log
    {
        [LoggerMessage(EventIds.AuditJournalOpened, LogLevel.Information, "Audit journal open: {File}.", EventName = "AuditJournalOpened")]
        public static partial void JournalOpened(ILogger logger, string file);

        [LoggerMessage(EventIds.AuditJournalUnavailable, LogLevel.Critical, "Audit events cannot be written to the journal in {Directory}; agencies with fail-closed audit are refused until it recovers.", EventName = "AuditJournalUnavailable")]
        public static partial void JournalUnavailable(ILogger logger, string directory, Exception exception);

        [LoggerMessage(EventIds.AuditJournalRecovered, LogLevel.Warning, "The audit journal in {Directory} is writable again.", EventName = "AuditJournalRecovered")]
        public static partial void JournalRecovered(ILogger logger, string directory);

        [LoggerMessage(EventIds.AuditJournalWriteFailed, LogLevel.Error, "Closing the audit journal in {Directory} failed.", EventName = "AuditJournalWriteFailed")]
        public static partial void JournalWriteFailed(ILogger logger, string directory, Exception exception);

        [LoggerMessage(EventIds.AuditEventDropped, LogLevel.Critical, "Audit event of request {RequestId} ({Decision}) dropped: the audit queue is full.", EventName = "AuditEventDropped")]
        public static partial void AuditEventDropped(ILogger logger, string requestId, string decision);

        [LoggerMessage(EventIds.AuditWriterFailed, LogLevel.Critical, "The audit writer stopped on an unexpected error: no further events are recorded and agencies with fail-closed audit are refused until the gateway restarts.", EventName = "AuditWriterFailed")]
        public static partial void WriterFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventIds.AuditEventsLost, LogLevel.Critical, "{Count} audit event(s) could not be written to {Directory} before shutdown.", EventName = "AuditEventsLost")]
        public static partial void AuditEventsLost(ILogger logger, int count, string directory);
    }
}

/// <summary>
/// A batch of events serialised once, as OCSF JSON, into one buffer; of the events themselves only those with
/// captured content are kept (for the content journal, after the batch is durable).
/// </summary>
internal sealed class EncodedBatch
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly List<(int Start, int Length)> _events = new(256);

    public int Count => _events.Count;

    public List<AuditEvent> WithContent { get; } = [];

    /// <summary>How many of the events are in the open journal's pending buffer (0 again when that journal is dropped).</summary>
    public int Appended { get; set; }

    public ReadOnlySpan<byte> this[int index] => _buffer.WrittenSpan.Slice(_events[index].Start, _events[index].Length);

    /// <summary>Serialises one event into the batch and returns its JSON.</summary>
    public ReadOnlySpan<byte> Add(AuditEvent e)
    {
        var start = _buffer.WrittenCount;
        OcsfApiActivity.Write(e, _buffer);
        _events.Add((start, _buffer.WrittenCount - start));
        if (e.Content is not null)
        {
            WithContent.Add(e);
        }

        return _buffer.WrittenSpan[start..];
    }

    public void Clear()
    {
        _buffer.ResetWrittenCount();
        _events.Clear();
        WithContent.Clear();
        Appended = 0;
    }
}
