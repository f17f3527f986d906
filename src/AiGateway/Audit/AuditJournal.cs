using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AiGateway.Audit;

/// <summary>
/// The durable, tamper-evident audit journal: append-only JSON lines under one directory, rotated by size and age.
/// Every line carries its sequence number and the SHA-256 of the previous line (a hash chain across files), and
/// signed checkpoints (HMAC-SHA256) seal the chain periodically, at rotation, at start and at shutdown, so an edit,
/// deletion, insertion or reordering is detected by <see cref="AuditJournalVerifier"/>.
/// Not thread-safe: one writer (the <see cref="AuditRecorder"/> loop) owns it.
/// </summary>
/// <remarks>
/// Line shapes (exact bytes are hashed, so no canonicalisation is needed):
/// <c>{"seq":N,"prev":"&lt;hex&gt;","event":{…OCSF…}}</c> and
/// <c>{"seq":N,"prev":"&lt;hex&gt;","checkpoint":{"time":ms,"reason":"…","events":K,"key_id":"…","sig":"&lt;hex&gt;"}}</c>.
/// </remarks>
internal sealed class AuditJournal : IDisposable
{
    public const string FilePrefix = "audit-";
    public const string FileExtension = ".jsonl";
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    private readonly string _directory;
    private readonly byte[] _key;
    private readonly string _keyId;
    private readonly long _rotationBytes;
    private readonly TimeSpan _rotationInterval;
    private readonly TimeProvider _time;
    private readonly ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private readonly byte[] _prevHex = new byte[64];

    private FileStream? _file;
    private long _fileBytes;
    private DateTimeOffset _fileOpened;
    private long _nextSeq = 1;
    private long _eventsSinceCheckpoint;
    private DateTimeOffset _lastCheckpoint;

    public AuditJournal(string directory, byte[] key, long rotationBytes, TimeSpan rotationInterval, TimeProvider time)
    {
        _directory = directory;
        _key = key;
        _keyId = KeyId(key);
        _rotationBytes = rotationBytes;
        _rotationInterval = rotationInterval;
        _time = time;
        Encoding.ASCII.GetBytes(GenesisHash, _prevHex);
    }

    public string Directory => _directory;

    public string? CurrentFile => _file?.Name;

    /// <summary>Events appended since the last checkpoint (sealed by the next one).</summary>
    public long EventsSinceCheckpoint => _eventsSinceCheckpoint;

    public DateTimeOffset LastCheckpoint => _lastCheckpoint;

    /// <summary>Events appended but not yet written and fsynced.</summary>
    public bool HasPending => _pending.WrittenCount > 0;

    /// <summary>The public id of a signing key (first 8 bytes of its SHA-256), recorded in checkpoints.</summary>
    public static string KeyId(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));

    /// <summary>
    /// Creates the directory, continues the chain from the last record on disk (cutting a torn last line a crash
    /// left behind) and starts a new file whose first record is a signed <c>start</c> checkpoint.
    /// </summary>
    public void Open()
    {
        System.IO.Directory.CreateDirectory(_directory);
        long tornBytes = 0;
        var files = ListFiles(_directory);
        for (var i = files.Length - 1; i >= 0; i--)
        {
            tornBytes += RecoverTail(files[i], out var found);
            if (found)
            {
                break;
            }
        }

        OpenNewFile();
        WriteCheckpoint(tornBytes > 0 ? "recovery" : "start", tornBytes);
        Flush();
    }

    /// <summary>Appends one event (compact OCSF JSON) to the pending batch.</summary>
    public void Append(ReadOnlySpan<byte> eventJson)
    {
        var start = _pending.WrittenCount;
        WritePrefix();
        Write("\"event\":"u8);
        Write(eventJson);
        Write("}"u8);
        EndLine(start);
        _eventsSinceCheckpoint++;
    }

    /// <summary>Appends a signed checkpoint sealing everything before it.</summary>
    public void Checkpoint(string reason) => WriteCheckpoint(reason, 0);

    /// <summary>Writes the pending batch and fsyncs it; rotates the file afterwards when it is due.</summary>
    public void Flush()
    {
        if (_file is null)
        {
            throw new InvalidOperationException("The journal is not open.");
        }

        if (_pending.WrittenCount > 0)
        {
            _file.Write(_pending.WrittenSpan);
            _fileBytes += _pending.WrittenCount;
            _pending.ResetWrittenCount();
        }

        _file.Flush(flushToDisk: true);

        if (_fileBytes >= _rotationBytes || _time.GetUtcNow() - _fileOpened >= _rotationInterval)
        {
            WriteCheckpoint("rotation", 0);
            _file.Write(_pending.WrittenSpan);
            _pending.ResetWrittenCount();
            _file.Flush(flushToDisk: true);
            _file.Dispose();
            OpenNewFile();
        }
    }

    /// <summary>Drops whatever is not yet fsynced and closes the file without a checkpoint: what a crash does (tests).</summary>
    public void Abandon()
    {
        _pending.ResetWrittenCount();
        _file?.Dispose();
        _file = null;
    }

    /// <summary>Seals the journal with a <c>shutdown</c> checkpoint, fsyncs and closes it.</summary>
    public void Dispose()
    {
        if (_file is null)
        {
            return;
        }

        try
        {
            WriteCheckpoint("shutdown", 0);
            _file.Write(_pending.WrittenSpan);
            _pending.ResetWrittenCount();
            _file.Flush(flushToDisk: true);
        }
        finally
        {
            _file.Dispose();
            _file = null;
        }
    }

    /// <summary>Journal files of a directory in chain order (names sort by start time, then first sequence number).</summary>
    public static string[] ListFiles(string directory)
    {
        var files = System.IO.Directory.GetFiles(directory, FilePrefix + "*" + FileExtension);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>The message a checkpoint signs.</summary>
    public static byte[] CheckpointMessage(long seq, ReadOnlySpan<char> prev, long time, ReadOnlySpan<char> reason, long events) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"aigw-audit-checkpoint|{seq}|{prev}|{time}|{reason}|{events}"));

    private void WriteCheckpoint(string reason, long tornBytes)
    {
        var now = _time.GetUtcNow();
        var time = now.ToUnixTimeMilliseconds();
        var seq = _nextSeq;
        var prev = Encoding.ASCII.GetString(_prevHex);
        var sig = HMACSHA256.HashData(_key, CheckpointMessage(seq, prev, time, reason, _eventsSinceCheckpoint));

        var start = _pending.WrittenCount;
        WritePrefix();
        Write("\"checkpoint\":{\"time\":"u8);
        WriteNumber(time);
        Write(",\"reason\":\""u8);
        Write(Encoding.ASCII.GetBytes(reason));
        Write("\",\"events\":"u8);
        WriteNumber(_eventsSinceCheckpoint);
        if (tornBytes > 0)
        {
            Write(",\"torn_bytes\":"u8);
            WriteNumber(tornBytes);
        }

        Write(",\"key_id\":\""u8);
        Write(Encoding.ASCII.GetBytes(_keyId));
        Write("\",\"sig\":\""u8);
        Write(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(sig)));
        Write("\"}}"u8);
        EndLine(start);
        _eventsSinceCheckpoint = 0;
        _lastCheckpoint = now;
    }

    private void WritePrefix()
    {
        Write("{\"seq\":"u8);
        WriteNumber(_nextSeq);
        Write(",\"prev\":\""u8);
        Write(_prevHex);
        Write("\","u8);
    }

    /// <summary>Hashes the line written since <paramref name="start"/>, ends it with a newline and advances the chain.</summary>
    private void EndLine(int start)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(_pending.WrittenSpan[start..], hash);
        Convert.TryToHexStringLower(hash, _prevHex, out _);
        Write("\n"u8);
        _nextSeq++;
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_pending.GetSpan(bytes.Length));
        _pending.Advance(bytes.Length);
    }

    private void WriteNumber(long value)
    {
        var span = _pending.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        _pending.Advance(written);
    }

    private void OpenNewFile()
    {
        _fileOpened = _time.GetUtcNow();
        var name = string.Create(CultureInfo.InvariantCulture, $"{FilePrefix}{_fileOpened.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}-{_nextSeq:D12}{FileExtension}");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        }

        _file = new FileStream(Path.Combine(_directory, name), options);
        _fileBytes = 0;
    }

    /// <summary>Events after the file's last checkpoint (all of them when it has none): the next checkpoint seals them.</summary>
    private static long CountUnsealedEvents(FileStream file, long length)
    {
        file.Position = 0;
        var bytes = new byte[length];
        file.ReadExactly(bytes);
        long events = 0;
        foreach (var range in bytes.AsSpan().Split((byte)'\n'))
        {
            var line = bytes.AsSpan(range);
            if (line.Length == 0)
            {
                continue;
            }

            // {"seq":N,"prev":"<64 hex>","checkpoint":{… or …,"event":{…: the kind follows the fixed-size prefix.
            var kind = line.IndexOf("\",\"checkpoint\":{"u8);
            if (kind is >= 0 and < 100)
            {
                events = 0;
            }
            else
            {
                events++;
            }
        }

        return events;
    }

    /// <summary>Continues the chain from the last complete line of <paramref name="path"/>; returns the torn bytes cut from its end.</summary>
    private long RecoverTail(string path, out bool found)
    {
        found = false;
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var length = file.Length;
        if (length == 0)
        {
            return 0;
        }

        // Find the last '\n', reading backwards in growing chunks.
        var chunk = 64 * 1024;
        byte[] buffer;
        long lastNewline = -1, previousNewline = -1;
        while (true)
        {
            var size = (int)Math.Min(length, chunk);
            buffer = new byte[size];
            file.Position = length - size;
            file.ReadExactly(buffer);
            var last = buffer.AsSpan().LastIndexOf((byte)'\n');
            if (last >= 0)
            {
                lastNewline = length - size + last;
                var before = buffer.AsSpan(0, last).LastIndexOf((byte)'\n');
                if (before >= 0 || size == length)
                {
                    previousNewline = before >= 0 ? length - size + before : -1;
                    break;
                }
            }
            else if (size == length)
            {
                break;
            }

            chunk *= 4;
        }

        long torn = length - (lastNewline + 1);
        if (torn > 0)
        {
            // A crash mid-write leaves a partial last line: it was never acknowledged as durable.
            file.SetLength(lastNewline + 1);
            file.Flush(flushToDisk: true);
        }

        if (lastNewline < 0)
        {
            return torn;
        }

        found = true;
        _eventsSinceCheckpoint = CountUnsealedEvents(file, lastNewline + 1);
        var lineStart = previousNewline + 1;
        var line = new byte[lastNewline - lineStart];
        file.Position = lineStart;
        file.ReadExactly(line);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(line, hash);
        Convert.TryToHexStringLower(hash, _prevHex, out _);
        _nextSeq = AuditJournalVerifier.TryReadSeq(line, out var seq) ? seq + 1 : 0;
        return torn;
    }
}
