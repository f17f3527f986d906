using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AiGateway.Audit;

/// <summary>What <see cref="AuditJournalVerifier"/> found.</summary>
/// <param name="Intact">True when every record chains to the one before, every checkpoint verifies and the journal is sealed.</param>
/// <param name="File">The file of the first broken record (null when intact).</param>
/// <param name="Line">Its 1-based line number (0 when the problem is the file itself).</param>
/// <param name="Problem">What is wrong, in words.</param>
internal sealed record AuditVerification(bool Intact, string? File, int Line, string? Problem, int Files, long Events, long Checkpoints, bool SignaturesChecked, long UnsealedEvents)
{
    public override string ToString() => Intact
        ? string.Create(CultureInfo.InvariantCulture, $"intact: {Files} file(s), {Events} event(s), {Checkpoints} checkpoint(s), signatures {(SignaturesChecked ? "verified" : "NOT verified (no key)")}{(UnsealedEvents > 0 ? $", {UnsealedEvents} event(s) after the last checkpoint (live journal)" : string.Empty)}")
        : string.Create(CultureInfo.InvariantCulture, $"BROKEN at {File}:{Line}: {Problem}");
}

/// <summary>
/// Checks an audit journal directory: sequence numbers, the SHA-256 chain across lines and files, file names,
/// checkpoint signatures (when the key is given) and that the journal ends with a checkpoint.
/// Reports the first broken record by file and line.
/// </summary>
internal static class AuditJournalVerifier
{
    /// <param name="key">The checkpoint signing key; null checks the chain only.</param>
    /// <param name="allowUnsealedTail">Accept events after the last checkpoint (a journal the gateway is still writing).</param>
    public static AuditVerification Verify(string directory, byte[]? key, bool allowUnsealedTail = false)
    {
        string[] files = [];
        long events = 0, checkpoints = 0;
        if (!Directory.Exists(directory))
        {
            return Broken(directory, 0, "the directory does not exist.");
        }

        files = AuditJournal.ListFiles(directory);
        if (files.Length == 0)
        {
            return Broken(directory, 0, "no journal file (audit-*.jsonl) found.");
        }

        var keyId = key is null ? null : AuditJournal.KeyId(key);
        var expectedPrev = AuditJournal.GenesisHash;
        long expectedSeq = 1, eventsSinceCheckpoint = 0;
        string? lastFile = null;
        var lastLine = 0;
        var lastWasCheckpoint = false;
        Span<byte> hash = stackalloc byte[32];

        foreach (var path in files)
        {
            var name = Path.GetFileName(path);
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Broken(name, 0, $"cannot be read ({ex.GetType().Name}).");
            }

            if (bytes.Length == 0)
            {
                return Broken(name, 0, "the file is empty (a journal file starts with a checkpoint or continues the chain).");
            }

            if (!TryFirstSeqFromName(name, out var nameSeq) || nameSeq != expectedSeq)
            {
                return Broken(name, 0, string.Create(CultureInfo.InvariantCulture, $"the file name does not continue the chain (expected a file starting at record {expectedSeq}): a file was renamed, deleted or inserted."));
            }

            var span = bytes.AsSpan();
            var lineNumber = 0;
            while (span.Length > 0)
            {
                lineNumber++;
                var newline = span.IndexOf((byte)'\n');
                if (newline < 0)
                {
                    return Broken(name, lineNumber, "the last line is incomplete (torn write, or the file was truncated).");
                }

                var line = span[..newline];
                span = span[(newline + 1)..];

                if (!TryParse(line, out var record, out var parseError))
                {
                    return Broken(name, lineNumber, parseError);
                }

                if (record.Seq != expectedSeq)
                {
                    return record.Seq > expectedSeq
                        ? Broken(name, lineNumber, string.Create(CultureInfo.InvariantCulture, $"record {record.Seq} follows record {expectedSeq - 1}: {record.Seq - expectedSeq} record(s) were deleted before this line."))
                        : Broken(name, lineNumber, string.Create(CultureInfo.InvariantCulture, $"record {record.Seq} is out of order (expected {expectedSeq}): records were reordered or duplicated."));
                }

                if (!string.Equals(record.Prev, expectedPrev, StringComparison.Ordinal))
                {
                    // The sequence is consecutive, so the record before this one changed (or this one's link did).
                    return lineNumber > 1
                        ? Broken(name, lineNumber - 1, "this record was modified: its hash does not match the link in the next record.")
                        : Broken(lastFile ?? name, lastFile is null ? lineNumber : lastLine, "this record was modified: its hash does not match the link in the next record (first line of " + name + ").");
                }

                if (record.IsCheckpoint)
                {
                    if (record.Events != eventsSinceCheckpoint)
                    {
                        return Broken(name, lineNumber, string.Create(CultureInfo.InvariantCulture, $"the checkpoint seals {record.Events} event(s) but {eventsSinceCheckpoint} precede it: events were deleted or inserted."));
                    }

                    if (key is not null)
                    {
                        if (!string.Equals(record.KeyId, keyId, StringComparison.Ordinal))
                        {
                            return Broken(name, lineNumber, $"the checkpoint was signed with key {record.KeyId}, not with the given key {keyId}.");
                        }

                        var expected = HMACSHA256.HashData(key, AuditJournal.CheckpointMessage(record.Seq, record.Prev, record.Time, record.Reason, record.Events));
                        if (!CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(record.Signature)))
                        {
                            return Broken(name, lineNumber, "the checkpoint signature does not verify: the chain before it was rewritten, or the checkpoint was edited.");
                        }
                    }

                    checkpoints++;
                    eventsSinceCheckpoint = 0;
                }
                else
                {
                    events++;
                    eventsSinceCheckpoint++;
                }

                lastWasCheckpoint = record.IsCheckpoint;
                SHA256.HashData(line, hash);
                expectedPrev = Convert.ToHexStringLower(hash);
                expectedSeq++;
            }

            lastFile = name;
            lastLine = lineNumber;
        }

        if (!lastWasCheckpoint && !allowUnsealedTail)
        {
            return Broken(lastFile!, lastLine, string.Create(CultureInfo.InvariantCulture, $"the journal does not end with a checkpoint: {eventsSinceCheckpoint} event(s) are unsealed (records after them were deleted, or the gateway is still running: use --live)."));
        }

        return new AuditVerification(true, null, 0, null, files.Length, events, checkpoints, key is not null, lastWasCheckpoint ? 0 : eventsSinceCheckpoint);

        AuditVerification Broken(string file, int line, string problem) =>
            new(false, file, line, problem, files.Length, events, checkpoints, key is not null, 0);
    }

    /// <summary>Reads <c>seq</c> from the start of a journal line.</summary>
    public static bool TryReadSeq(ReadOnlySpan<byte> line, out long seq)
    {
        seq = 0;
        var reader = new Utf8JsonReader(line);
        try
        {
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject
                && reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("seq"u8)
                && reader.Read() && reader.TryGetInt64(out seq);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool TryFirstSeqFromName(string name, out long seq)
    {
        // audit-<time>-<seq:D12>.jsonl
        seq = 0;
        var stem = Path.GetFileNameWithoutExtension(name);
        var dash = stem.LastIndexOf('-');
        return dash > 0 && long.TryParse(stem.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out seq);
    }

    private record struct Record(long Seq, string Prev, bool IsCheckpoint, long Time, string Reason, long Events, string KeyId, string Signature);

    private static bool TryParse(ReadOnlySpan<byte> line, out Record record, out string error)
    {
        record = default;
        error = string.Empty;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "not a JSON object.";
                return false;
            }

            long seq = -1;
            string? prev = null;
            var kind = 0; // 1 event, 2 checkpoint
            long time = 0, events = -1;
            string reason = string.Empty, keyId = string.Empty, sig = string.Empty;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("seq"u8))
                {
                    reader.Read();
                    seq = reader.GetInt64();
                }
                else if (reader.ValueTextEquals("prev"u8))
                {
                    reader.Read();
                    prev = reader.GetString();
                }
                else if (reader.ValueTextEquals("event"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        error = "\"event\" is not an object.";
                        return false;
                    }

                    reader.Skip();
                    kind = 1;
                }
                else if (reader.ValueTextEquals("checkpoint"u8))
                {
                    reader.Read();
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("time"u8))
                        {
                            reader.Read();
                            time = reader.GetInt64();
                        }
                        else if (reader.ValueTextEquals("reason"u8))
                        {
                            reader.Read();
                            reason = reader.GetString() ?? string.Empty;
                        }
                        else if (reader.ValueTextEquals("events"u8))
                        {
                            reader.Read();
                            events = reader.GetInt64();
                        }
                        else if (reader.ValueTextEquals("key_id"u8))
                        {
                            reader.Read();
                            keyId = reader.GetString() ?? string.Empty;
                        }
                        else if (reader.ValueTextEquals("sig"u8))
                        {
                            reader.Read();
                            sig = reader.GetString() ?? string.Empty;
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }

                    kind = 2;
                }
                else
                {
                    error = "unexpected property \"" + reader.GetString() + "\".";
                    return false;
                }
            }

            if (seq < 0 || prev is null || prev.Length != 64 || kind == 0)
            {
                error = "not a journal record (seq, prev and event or checkpoint are required).";
                return false;
            }

            if (kind == 2 && (events < 0 || sig.Length != 64 || !IsHex(sig)))
            {
                error = "malformed checkpoint.";
                return false;
            }

            record = new Record(seq, prev, kind == 2, time, reason, events, keyId, sig);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            error = "not valid JSON (" + ex.GetType().Name + ").";
            return false;
        }
    }

    private static bool IsHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Decodes the signing key text of a key file or variable the way the gateway does.</summary>
    public static byte[] KeyBytes(string text) => Encoding.UTF8.GetBytes(text.Trim());
}
