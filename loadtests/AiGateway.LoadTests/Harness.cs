using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace AiGateway.LoadTests;

/// <summary>A child process pinned to one core, its output kept in a log file; killed (its tree, by pid) on dispose.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ChildProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Pid => _process.Id;

    public string Name { get; private init; } = "";

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="file"/> under <c>taskset -c <paramref name="core"/></c> (taskset execs, so the pid is the program's).</summary>
    public static ChildProcess Start(string name, int core, string file, IEnumerable<string> args, string logPath, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(core.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(file);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                info.Environment[k] = v;
            }
        }

        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(process, log) { Name = name };
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}

/// <summary>CPU time and memory of a process tree from /proc (Linux only).</summary>
internal static class ProcStats
{
    private static readonly double s_tick = 1_000_000.0 / 100; // µs per clock tick (USER_HZ = 100 on Linux)

    /// <summary>utime + stime of <paramref name="pid"/> and all its descendants, in µs.</summary>
    public static double CpuMicroseconds(int pid)
    {
        var total = 0.0;
        foreach (var p in Tree(pid))
        {
            var f = StatFields(p);
            if (f is not null)
            {
                total += (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) * s_tick;
            }
        }

        return total;
    }

    /// <summary>Resident set size of the tree in bytes.</summary>
    public static long RssBytes(int pid)
    {
        long total = 0;
        foreach (var p in Tree(pid))
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{p}/status"))
                {
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    {
                        total += long.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                    }
                }
            }
            catch (IOException)
            {
            }
        }

        return total;
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public static double LoadAverage1() => double.Parse(LoadAverage().Split(' ')[0], CultureInfo.InvariantCulture);

    private static List<int> Tree(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                var f = StatFields(pid);
                if (f is not null)
                {
                    parents[pid] = int.Parse(f[1], CultureInfo.InvariantCulture);
                }
            }
        }

        var result = new List<int> { root };
        for (var i = 0; i < result.Count; i++)
        {
            foreach (var (pid, ppid) in parents)
            {
                if (ppid == result[i])
                {
                    result.Add(pid);
                }
            }
        }

        return result;
    }

    /// <summary>Fields of /proc/pid/stat after the "(comm)" field: [0]=state, [1]=ppid, [11]=utime, [12]=stime.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

internal static class Net
{
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Waits until <paramref name="probe"/> succeeds (bounded).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> probe, TimeSpan timeout, string what, ChildProcess? process = null)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (process is { HasExited: true })
            {
                throw new InvalidOperationException($"{what} exited during start-up (see its log).");
            }

            try
            {
                if (await probe())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (SocketException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{what} not ready after {timeout.TotalSeconds:0} s (see its log).");
    }
}

/// <summary>One wrk run's figures (from post.lua's RESULT line).</summary>
internal sealed record WrkResult
{
    public long Requests { get; init; }
    public long DurationUs { get; init; }
    public long Bytes { get; init; }
    public long ErrorsConnect { get; init; }
    public long ErrorsRead { get; init; }
    public long ErrorsWrite { get; init; }
    public long ErrorsStatus { get; init; }
    public long ErrorsTimeout { get; init; }
    public double LatMeanUs { get; init; }
    public long LatMaxUs { get; init; }
    public long P50Us { get; init; }
    public long P90Us { get; init; }
    public long P99Us { get; init; }
    public long P999Us { get; init; }
    public long OvhCount { get; init; }
    public double OvhP50Ms { get; init; }
    public double OvhP90Ms { get; init; }
    public double OvhP99Ms { get; init; }
    public double OvhP999Ms { get; init; }
    public long Non200 { get; init; }

    public double RequestsPerSecond => DurationUs == 0 ? 0 : Requests * 1e6 / DurationUs;

    public long Errors => ErrorsConnect + ErrorsRead + ErrorsWrite + ErrorsStatus + ErrorsTimeout;
}

/// <summary>What one wrk run sends.</summary>
internal sealed record Load(string BodyFile, string HeadersFile, string? TokensFile = null);

internal static class Wrk
{
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Runs wrk on <paramref name="core"/> for <paramref name="seconds"/>; closed loop unless <paramref name="delayMs"/> &gt; 0.</summary>
    public static async Task<WrkResult> RunAsync(string url, Load load, int connections, int threads, double seconds, int core, string scriptPath,
        double delayMs = 0, bool overhead = false, double timeoutSeconds = 10)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // wrk needs one descriptor per connection (5k streams in the soak).
        var cmd = string.Create(CultureInfo.InvariantCulture,
            $"ulimit -n 20000 2>/dev/null || ulimit -n $(ulimit -Hn); exec taskset -c {core} wrk -t{threads} -c{connections} -d{seconds:0.#}s --timeout {timeoutSeconds:0}s -s '{scriptPath}' '{url}'");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(cmd);
        info.Environment["LT_BODY"] = load.BodyFile;
        info.Environment["LT_HEADERS"] = load.HeadersFile;
        info.Environment["LT_TOKENS"] = load.TokensFile ?? "";
        info.Environment["LT_DELAY_MS"] = delayMs.ToString("0.###", CultureInfo.InvariantCulture);
        info.Environment["LT_OVERHEAD"] = overhead ? "1" : "0";
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + timeoutSeconds + 60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("wrk did not finish in time");
        }

        var output = await stdout;
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no RESULT line: {output} {await stderr}");
        return JsonSerializer.Deserialize<WrkResult>(line[7..], s_json)!;
    }
}

/// <summary>h2load (HTTP/2, prior knowledge) summary.</summary>
internal sealed record H2Result(double RequestsPerSecond, long Succeeded, long Failed, double MeanMs);

internal static class H2Load
{
    public static async Task<H2Result> RunAsync(string url, string bodyFile, IEnumerable<string> headers, int clients, int streams, double seconds, int core)
    {
        var info = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", core.ToString(CultureInfo.InvariantCulture), "h2load", "-c", clients.ToString(CultureInfo.InvariantCulture),
                     "-m", streams.ToString(CultureInfo.InvariantCulture), "-D", seconds.ToString("0", CultureInfo.InvariantCulture), "-d", bodyFile })
        {
            info.ArgumentList.Add(a);
        }

        foreach (var h in headers)
        {
            info.ArgumentList.Add("-H");
            info.ArgumentList.Add(h);
        }

        info.ArgumentList.Add(url);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 60));
        await p.WaitForExitAsync(cts.Token);
        var text = await stdout;
        double rps = 0, mean = 0;
        long ok = 0, failed = 0;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("finished in", StringComparison.Ordinal))
            {
                var part = line.Split(',')[1].Trim(); // "12345.67 req/s"
                rps = double.Parse(part.Split(' ')[0], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("requests:", StringComparison.Ordinal))
            {
                var parts = line.Split(',');
                ok = long.Parse(parts[3].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                failed = long.Parse(parts[4].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("time for request:", StringComparison.Ordinal))
            {
                var v = line["time for request:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
                mean = ParseDuration(v);
            }
        }

        return new H2Result(rps, ok, failed, mean);
    }

    private static double ParseDuration(string v) =>
        v.EndsWith("us", StringComparison.Ordinal) ? double.Parse(v[..^2], CultureInfo.InvariantCulture) / 1000
        : v.EndsWith("ms", StringComparison.Ordinal) ? double.Parse(v[..^2], CultureInfo.InvariantCulture)
        : double.Parse(v.TrimEnd('s'), CultureInfo.InvariantCulture) * 1000;
}
