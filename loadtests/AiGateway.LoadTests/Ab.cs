using System.Globalization;
using System.Text;

namespace AiGateway.LoadTests;

/// <summary>One A slice and the B slice right after it.</summary>
internal sealed record AbPair(Measurement A, Measurement B, double RedisCommandsA, double RedisCommandsB, string CommandsA, string CommandsB, double RedisCpuA, double RedisCpuB)
{
    /// <summary>A's req/s ÷ B's.</summary>
    public double ThroughputRatio => B.RequestsPerSecond == 0 ? 0 : A.RequestsPerSecond / B.RequestsPerSecond;

    /// <summary>A's CPU µs per request ÷ B's (1.10 = A costs 10 % more CPU per request).</summary>
    public double CpuRatio => B.CpuMicrosecondsPerRequest == 0 ? 0 : A.CpuMicrosecondsPerRequest / B.CpuMicrosecondsPerRequest;
}

/// <summary>An interleaved A/B run (A, B, A, B …) of two variants of the gateway on the small chat.</summary>
internal sealed class AbRun(string name, string a, string b, int slices, double seconds, string loadAtStart)
{
    public List<AbPair> Pairs { get; } = [];

    public List<string> Warmup { get; } = [];

    public string LoadAverageAtEnd { get; set; } = "?";

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToList();
        return v.Count == 0 ? double.NaN : v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }

    public string ToMarkdown()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"### A/B {name}: A = `{a}`, B = `{b}` — {Pairs.Count} (of {slices}) interleaved pairs of {F(seconds, "0.#")} s slices, small chat, 32 connections");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Load average at start {loadAtStart}, at end {LoadAverageAtEnd} (2 cores). Warm-up (alternating 10 s slices): {string.Join(", ", Warmup)} req/s.");
        s.AppendLine();
        s.AppendLine("| pair | A req/s | B req/s | req/s A÷B | A CPU µs/req | B CPU µs/req | CPU A÷B | A p99 ms | B p99 ms | A core | B core | Redis trips/req A | Redis trips/req B | Redis CPU µs/req A | Redis CPU µs/req B | errors A/B | load avg (A slice) |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
        var i = 0;
        foreach (var p in Pairs)
        {
            i++;
            s.AppendLine(CultureInfo.InvariantCulture,
                $"| {i} | {F(p.A.RequestsPerSecond, "0")} | {F(p.B.RequestsPerSecond, "0")} | {F(p.ThroughputRatio, "0.000")} | {F(p.A.CpuMicrosecondsPerRequest, "0")} | {F(p.B.CpuMicrosecondsPerRequest, "0")} | {F(p.CpuRatio, "0.000")} | {F(p.A.P99Ms, "0.0")} | {F(p.B.P99Ms, "0.0")} | {F(p.A.TargetCoreBusy * 100, "0")} % | {F(p.B.TargetCoreBusy * 100, "0")} % | {F(p.RedisCommandsA, "0.00")} | {F(p.RedisCommandsB, "0.00")} | {F(p.RedisCpuA, "0")} | {F(p.RedisCpuB, "0")} | {p.A.Errors}/{p.B.Errors} | {p.A.LoadAverage} |");
        }

        s.AppendLine();
        var errors = Pairs.Sum(p => p.A.Errors + p.B.Errors);
        var requests = Pairs.Sum(p => p.A.Requests + p.B.Requests);
        if (errors > 0)
        {
            // Refused requests are cheap and skew both ratios; a handful (e.g. 503 while a Redis timeout opened the
            // limit store's breaker on a loaded machine) does not.
            s.AppendLine(errors > requests / 100
                ? $"**INVALID: {errors} of {requests} requests failed or were refused (e.g. 429 from a limit set too low); refused requests are cheap and skew both ratios.**"
                : $"Note: {errors} of {requests} requests ({100.0 * errors / requests:0.00} %) failed or were refused (see the gateway logs, e.g. 503 while a Redis timeout opened the limit store's breaker).");
            s.AppendLine();
        }

        var tr = Pairs.Select(p => p.ThroughputRatio).ToList();
        var cr = Pairs.Select(p => p.CpuRatio).ToList();
        if (Pairs.Count > 0)
        {
            s.AppendLine("| summary over pairs | median | min | max |");
            s.AppendLine("|---|---:|---:|---:|");
            s.AppendLine(CultureInfo.InvariantCulture, $"| req/s A ÷ B | {F(Median(tr), "0.000")} | {F(tr.Min(), "0.000")} | {F(tr.Max(), "0.000")} |");
            s.AppendLine(CultureInfo.InvariantCulture, $"| CPU µs/req A ÷ B | {F(Median(cr), "0.000")} | {F(cr.Min(), "0.000")} | {F(cr.Max(), "0.000")} |");
            s.AppendLine(CultureInfo.InvariantCulture, $"| CPU µs/req A − B | {F(Median(Pairs.Select(p => p.A.CpuMicrosecondsPerRequest - p.B.CpuMicrosecondsPerRequest)), "0")} | {F(Pairs.Min(p => p.A.CpuMicrosecondsPerRequest - p.B.CpuMicrosecondsPerRequest), "0")} | {F(Pairs.Max(p => p.A.CpuMicrosecondsPerRequest - p.B.CpuMicrosecondsPerRequest), "0")} |");
            // Closed-loop p99 at saturation is mostly queueing, but a variant that does its work in bursts shows here.
            s.AppendLine(CultureInfo.InvariantCulture, $"| p99 ms (closed loop, saturated), A | {F(Median(Pairs.Select(p => p.A.P99Ms)), "0.0")} | {F(Pairs.Min(p => p.A.P99Ms), "0.0")} | {F(Pairs.Max(p => p.A.P99Ms), "0.0")} |");
            s.AppendLine(CultureInfo.InvariantCulture, $"| p99 ms (closed loop, saturated), B | {F(Median(Pairs.Select(p => p.B.P99Ms)), "0.0")} | {F(Pairs.Min(p => p.B.P99Ms), "0.0")} | {F(Pairs.Max(p => p.B.P99Ms), "0.0")} |");
            s.AppendLine(CultureInfo.InvariantCulture, $"| Redis round trips (scripts) per request, A | {F(Median(Pairs.Select(p => p.RedisCommandsA)), "0.00")} | {F(Pairs.Min(p => p.RedisCommandsA), "0.00")} | {F(Pairs.Max(p => p.RedisCommandsA), "0.00")} |");
            s.AppendLine(CultureInfo.InvariantCulture, $"| Redis round trips (scripts) per request, B | {F(Median(Pairs.Select(p => p.RedisCommandsB)), "0.00")} | {F(Pairs.Min(p => p.RedisCommandsB), "0.00")} | {F(Pairs.Max(p => p.RedisCommandsB), "0.00")} |");
            s.AppendLine(CultureInfo.InvariantCulture, $"| Redis CPU µs per request, A (on the harness core) | {F(Median(Pairs.Select(p => p.RedisCpuA)), "0")} | {F(Pairs.Min(p => p.RedisCpuA), "0")} | {F(Pairs.Max(p => p.RedisCpuA), "0")} |");
            s.AppendLine(CultureInfo.InvariantCulture, $"| Redis CPU µs per request, B (on the harness core) | {F(Median(Pairs.Select(p => p.RedisCpuB)), "0")} | {F(Pairs.Min(p => p.RedisCpuB), "0")} | {F(Pairs.Max(p => p.RedisCpuB), "0")} |");
            s.AppendLine();
            s.AppendLine(CultureInfo.InvariantCulture, $"Redis commands per request by command, including those run inside the scripts (last pair): A {Pairs[^1].CommandsA}; B {(Pairs[^1].CommandsB.Length == 0 ? "none" : Pairs[^1].CommandsB)}.");
        }

        return s.ToString();
    }
}
