using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace AiGateway.Benchmarks.Allocations;

/// <summary>
/// Bytes allocated per request in a running gateway, and by whom: reads an EventPipe trace holding the runtime's
/// allocation ticks (one about every 100 KB allocated, with its type and call stack) and ASP.NET Core's request
/// stops. The ticks are a sample: per-request figures are estimates (±5 % over ~40 000 requests), stable enough to
/// compare two builds under the same load. Collect (see docs/performance.md, "Allocations in the running gateway"):
/// <code>dotnet-trace collect -p PID --providers Microsoft-Windows-DotNETRuntime:0x1:5,Microsoft.AspNetCore.Hosting:0:4 --duration 00:00:10 -o gw.nettrace</code>
/// then <c>dotnet run -c Release --project loadtests/AiGateway.Benchmarks -- allocations gw.nettrace</c>.
/// </summary>
internal static class AllocationReport
{
    public static int Run(string[] args)
    {
        if (args.Length < 1 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: allocations <trace.nettrace> [top N, default 25]");
            return 2;
        }

        var top = args.Length > 1 && int.TryParse(args[1], out var n) ? n : 25;
        using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
        var byType = new Dictionary<string, long>();
        var bySite = new Dictionary<string, long>();
        long total = 0, requests = 0;
        var gcs = new long[3];
        double pausedMs = 0, suspendedAt = double.NaN;
        foreach (var ev in log.Events)
        {
            // Collections by generation, and the time the runtime held managed threads for them (suspend → restart).
            switch (ev)
            {
                case GCStartTraceData start:
                    gcs[Math.Min(start.Depth, 2)]++;
                    continue;
                case GCSuspendEETraceData suspend:
                    // Only suspensions for a collection (the runtime also suspends threads for other reasons).
                    suspendedAt = suspend.Reason is GCSuspendEEReason.SuspendForGC or GCSuspendEEReason.SuspendForGCPrep ? ev.TimeStampRelativeMSec : double.NaN;
                    continue;
                case GCNoUserDataTraceData when ev.EventName == "GC/RestartEEStop" && !double.IsNaN(suspendedAt):
                    pausedMs += ev.TimeStampRelativeMSec - suspendedAt;
                    suspendedAt = double.NaN;
                    continue;
            }

            if (ev.ProviderName == "Microsoft.AspNetCore.Hosting")
            {
                requests += ev.EventName == "Request/Stop" ? 1 : 0;
                continue;
            }

            if (ev is not GCAllocationTickTraceData tick)
            {
                continue;
            }

            var type = tick.TypeName ?? "?";
            total += tick.AllocationAmount64;
            byType[type] = byType.GetValueOrDefault(type) + tick.AllocationAmount64;
            var site = type + " <- " + Site(tick);
            bySite[site] = bySite.GetValueOrDefault(site) + tick.AllocationAmount64;
        }

        Console.WriteLine($"requests {requests:N0}; sampled bytes {total:N0}; bytes per request {(requests == 0 ? 0 : total / requests):N0}");
        Console.WriteLine($"collections: gen0 {gcs[0]:N0}, gen1 {gcs[1]:N0}, gen2 {gcs[2]:N0}; threads paused {pausedMs:N1} ms in all, {(requests == 0 ? 0 : pausedMs * 1000 / requests):N2} µs per request");
        Console.WriteLine();
        Console.WriteLine("| share | bytes/request | type |");
        Console.WriteLine("|---:|---:|---|");
        foreach (var (type, bytes) in byType.OrderByDescending(kv => kv.Value).Take(top))
        {
            Console.WriteLine($"| {100.0 * bytes / total:F1} % | {(requests == 0 ? 0 : bytes / requests):N0} | `{type}` |");
        }

        Console.WriteLine();
        Console.WriteLine("| share | bytes/request | type <- first frames outside the base library |");
        Console.WriteLine("|---:|---:|---|");
        foreach (var (site, bytes) in bySite.OrderByDescending(kv => kv.Value).Take(top))
        {
            Console.WriteLine($"| {100.0 * bytes / total:F1} % | {(requests == 0 ? 0 : bytes / requests):N0} | `{site}` |");
        }

        return 0;
    }

    /// <summary>The allocating frame that is not base-library code, with its caller.</summary>
    private static string Site(GCAllocationTickTraceData tick)
    {
        var frames = new List<string>();
        for (var frame = tick.CallStack(); frame is not null && frames.Count < 40; frame = frame.Caller)
        {
            var method = frame.CodeAddress.FullMethodName;
            if (!string.IsNullOrEmpty(method))
            {
                frames.Add(method.Length > 140 ? method[..140] : method);
            }
        }

        var first = frames.FindIndex(f => !f.StartsWith("System.", StringComparison.Ordinal) && !f.StartsWith("Microsoft.Extensions.Primitives", StringComparison.Ordinal));
        return first < 0 ? string.Join(" <- ", frames.Take(2)) : string.Join(" <- ", frames.Skip(first).Take(2));
    }
}
