using System.Text;
using AiGateway.Audit;

namespace AiGateway.Tests.Audit;

/// <summary>The journal's hash chain and signed checkpoints: every edit, deletion and reordering is detected; a crash loses only what was not flushed.</summary>
public sealed class AuditJournalTests : IDisposable
{
    private static readonly byte[] s_key = Encoding.UTF8.GetBytes("test-signing-key-0123456789abcdef0123456789");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aigw-journal-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private AuditJournal NewJournal(long rotationBytes = 1 << 20) => new(_dir, s_key, rotationBytes, TimeSpan.FromHours(1), TimeProvider.System);

    private static byte[] Event(int i) => Encoding.UTF8.GetBytes($$"""{"class_uid":6003,"n":{{i}}}""");

    /// <summary>Writes <paramref name="events"/> events (flushing every 3) into small rotated files and closes the journal.</summary>
    private string[] WriteJournal(int events, long rotationBytes = 600)
    {
        using (var journal = NewJournal(rotationBytes))
        {
            journal.Open();
            for (var i = 0; i < events; i++)
            {
                journal.Append(Event(i));
                if (i % 3 == 2)
                {
                    journal.Flush();
                }
            }

            journal.Flush();
        }

        return AuditJournal.ListFiles(_dir);
    }

    private static List<(string File, int Line)> AllLines(string[] files)
    {
        var result = new List<(string, int)>();
        foreach (var file in files)
        {
            var count = File.ReadAllLines(file).Length;
            for (var i = 1; i <= count; i++)
            {
                result.Add((file, i));
            }
        }

        return result;
    }

    [Fact]
    public void Intact_journal_verifies_with_the_key_across_rotated_files()
    {
        var files = WriteJournal(12);

        var result = AuditJournalVerifier.Verify(_dir, s_key);

        Assert.True(files.Length > 2, "expected rotation into several files");
        Assert.True(result.Intact, result.ToString());
        Assert.Equal(12, result.Events);
        Assert.True(result.SignaturesChecked);
    }

    [Fact]
    public void Editing_any_line_is_detected_naming_that_line()
    {
        var files = WriteJournal(8);
        foreach (var (file, line) in AllLines(files))
        {
            var original = File.ReadAllLines(file);
            var edited = (string[])original.Clone();
            edited[line - 1] = edited[line - 1].Contains("\"n\":", StringComparison.Ordinal)
                ? edited[line - 1].Replace("\"n\":", "\"n\":1", StringComparison.Ordinal)
                : edited[line - 1].Replace("\"events\":", "\"events\":1", StringComparison.Ordinal);
            File.WriteAllText(file, string.Join('\n', edited) + "\n");

            var result = AuditJournalVerifier.Verify(_dir, s_key);

            Assert.False(result.Intact, $"edit of {Path.GetFileName(file)}:{line} not detected");
            Assert.Equal(Path.GetFileName(file), result.File);
            Assert.Equal(line, result.Line);
            File.WriteAllText(file, string.Join('\n', original) + "\n");
        }

        Assert.True(AuditJournalVerifier.Verify(_dir, s_key).Intact);
    }

    [Fact]
    public void Deleting_any_line_is_detected()
    {
        var files = WriteJournal(8);
        foreach (var (file, line) in AllLines(files))
        {
            var original = File.ReadAllLines(file);
            var remaining = original.Where((_, i) => i != line - 1).ToArray();
            File.WriteAllText(file, remaining.Length == 0 ? string.Empty : string.Join('\n', remaining) + "\n");

            var result = AuditJournalVerifier.Verify(_dir, s_key);

            Assert.False(result.Intact, $"deletion of {Path.GetFileName(file)}:{line} not detected");
            Assert.NotNull(result.File);
            File.WriteAllText(file, string.Join('\n', original) + "\n");
        }
    }

    [Fact]
    public void Swapping_adjacent_lines_is_detected()
    {
        var files = WriteJournal(8);
        foreach (var file in files)
        {
            var original = File.ReadAllLines(file);
            for (var i = 0; i + 1 < original.Length; i++)
            {
                var swapped = (string[])original.Clone();
                (swapped[i], swapped[i + 1]) = (swapped[i + 1], swapped[i]);
                File.WriteAllText(file, string.Join('\n', swapped) + "\n");

                var result = AuditJournalVerifier.Verify(_dir, s_key);

                Assert.False(result.Intact, $"swap of {Path.GetFileName(file)}:{i + 1}/{i + 2} not detected");
                Assert.Equal(i + 1, result.Line);
            }

            File.WriteAllText(file, string.Join('\n', original) + "\n");
        }
    }

    [Fact]
    public void Deleting_or_swapping_a_whole_file_is_detected()
    {
        var files = WriteJournal(12);
        var middle = files[1];
        var content = File.ReadAllBytes(middle);
        File.Delete(middle);
        Assert.False(AuditJournalVerifier.Verify(_dir, s_key).Intact);
        File.WriteAllBytes(middle, content);

        // Swap the contents of two files (names stay in order).
        var a = File.ReadAllBytes(files[1]);
        var b = File.ReadAllBytes(files[2]);
        File.WriteAllBytes(files[1], b);
        File.WriteAllBytes(files[2], a);
        Assert.False(AuditJournalVerifier.Verify(_dir, s_key).Intact);
    }

    [Fact]
    public void A_rewritten_chain_without_the_key_fails_the_checkpoint_signature()
    {
        WriteJournal(4, rotationBytes: 1 << 20);
        var file = AuditJournal.ListFiles(_dir)[0];

        // An attacker with write access recomputes every hash after editing an event, but cannot sign.
        var forged = new AuditJournal(_dir + "-forged", Encoding.UTF8.GetBytes("attacker-key-attacker-key-attacker-key!"), 1 << 20, TimeSpan.FromHours(1), TimeProvider.System);
        forged.Open();
        for (var i = 0; i < 4; i++)
        {
            forged.Append(Event(i == 2 ? 99 : i));
        }

        forged.Dispose();
        var forgedFile = AuditJournal.ListFiles(_dir + "-forged")[0];
        File.Copy(forgedFile, file, overwrite: true);
        Directory.Delete(_dir + "-forged", recursive: true);

        Assert.True(AuditJournalVerifier.Verify(_dir, key: null).Intact); // the chain alone is consistent
        var result = AuditJournalVerifier.Verify(_dir, s_key);
        Assert.False(result.Intact);
        Assert.Equal(1, result.Line);
        Assert.Contains("key", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Crash_loses_only_unflushed_events_and_the_reopened_journal_verifies()
    {
        var journal = NewJournal();
        journal.Open();
        for (var i = 0; i < 10; i++)
        {
            journal.Append(Event(i));
        }

        journal.Flush(); // acknowledged: durable
        for (var i = 10; i < 15; i++)
        {
            journal.Append(Event(i));
        }

        journal.Abandon(); // crash: the 5 pending events are lost

        // A torn write at the end of the file (the crash hit mid-write).
        var last = AuditJournal.ListFiles(_dir)[^1];
        File.AppendAllText(last, "{\"seq\":13,\"prev\":\"ab");
        Assert.False(AuditJournalVerifier.Verify(_dir, s_key, allowUnsealedTail: true).Intact);

        using (var reopened = NewJournal())
        {
            reopened.Open(); // cuts the torn line, seals the old tail with a signed recovery checkpoint
            reopened.Append(Event(100));
            reopened.Flush();
        }

        var result = AuditJournalVerifier.Verify(_dir, s_key);
        Assert.True(result.Intact, result.ToString());
        Assert.Equal(11, result.Events);
        Assert.Contains("\"reason\":\"recovery\"", File.ReadAllText(AuditJournal.ListFiles(_dir)[^1]), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_command_exits_0_when_intact_and_1_naming_file_and_line_when_broken()
    {
        WriteJournal(5, rotationBytes: 1 << 20);
        var keyFile = Path.Combine(Path.GetTempPath(), "aigw-key-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(keyFile, s_key);
        try
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            Assert.Equal(0, AuditCommand.Run(["verify", _dir, "--key-file", keyFile], stdout, stderr));
            Assert.Contains("intact", stdout.ToString(), StringComparison.Ordinal);

            var file = AuditJournal.ListFiles(_dir)[0];
            var lines = File.ReadAllLines(file);
            lines[2] = lines[2].Replace("6003", "6004", StringComparison.Ordinal);
            File.WriteAllText(file, string.Join('\n', lines) + "\n");
            using var stdout2 = new StringWriter();
            using var stderr2 = new StringWriter();
            Assert.Equal(1, AuditCommand.Run(["verify", _dir, "--key-file", keyFile], stdout2, stderr2));
            Assert.Contains($"{Path.GetFileName(file)}:3:", stderr2.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }
}
