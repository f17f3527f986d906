using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AiGateway.LoadTests;

internal sealed class RunReport
{
    public DateTime Started { get; set; }
    public DateTime Finished { get; set; }
    public bool Quick { get; set; }
    public string Machine { get; set; } = "";
    public string LoadAverageAtStart { get; set; } = "";
    public string LoadAverageAtEnd { get; set; } = "";
    public Timing? Timing { get; set; }
    public long OtlpRequests { get; set; }
    public List<Warmup> Warmups { get; } = [];
    public List<Measurement> Measurements { get; } = [];
    public List<PacedPair> Paced { get; } = [];
    public List<Ttfb> Ttfbs { get; } = [];
    public List<Soak> Soaks { get; } = [];
}

internal sealed record Measurement
{
    public string Target { get; init; } = "";
    public string Scenario { get; init; } = "";
    public string Mode { get; init; } = "";
    public int Connections { get; init; }
    public long Requests { get; init; }
    public long Errors { get; init; }
    public double RequestsPerSecond { get; init; }
    public double P50Ms { get; init; }
    public double P90Ms { get; init; }
    public double P99Ms { get; init; }
    public double P999Ms { get; init; }
    public double CpuMicrosecondsPerRequest { get; init; }
    public double TargetCoreBusy { get; init; }
    public double? OverheadP50Ms { get; init; }
    public double? OverheadP90Ms { get; init; }
    public double? OverheadP99Ms { get; init; }
    public double? OverheadP999Ms { get; init; }
    public string LoadAverage { get; init; } = "";
    public string? Note { get; init; }
}

internal sealed record Warmup(string Target, double SliceSeconds, List<double> SliceRequestsPerSecond, bool Settled);

internal sealed record PacedPair(string Target, double NominalRate, Measurement Through, Measurement Direct)
{
    public double AddedP50Ms => Through.P50Ms - Direct.P50Ms;
    public double AddedP99Ms => Through.P99Ms - Direct.P99Ms;
}

internal sealed record Ttfb(string Target, int Pairs, double P50Ms, double P99Ms, double DirectP50Ms, double DirectP99Ms, int Failed)
{
    public double AddedP50Ms => P50Ms - DirectP50Ms;
}

internal sealed record Soak(string Target, int Streams, int ChunksPerStream, long RssBeforeBytes, long MaxRssBytes, Measurement Measurement);

internal static class ReportWriter
{
    private static readonly string[] s_order = ["direct", "yarp-plain", "gateway-minimal", "gateway-full", "portkey"];
    private static readonly string[] s_colors = ["#8c8c8c", "#4c78a8", "#72b7b2", "#f58518", "#e45756"];

    public static void Write(RunReport report, string dir)
    {
        File.WriteAllText(Path.Combine(dir, "results.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        File.WriteAllText(Path.Combine(dir, "report.md"), Markdown(report));
        File.WriteAllText(Path.Combine(dir, "chart.svg"), Svg(report));
    }

    private static string F(double v, string format = "0.000") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    private static Measurement? Closed(RunReport r, string target, string scenario) =>
        r.Measurements.LastOrDefault(m => m.Target == target && m.Scenario == scenario && m.Mode == "closed");

    public static string Markdown(RunReport r)
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.AppendLine(inv, $"# AiGateway load test — {r.Started:yyyy-MM-dd HH:mm} UTC{(r.Quick ? " (--quick)" : "")}");
        s.AppendLine();
        s.AppendLine(inv, $"Machine: {r.Machine}. Load average (1/5/15 min) at start {r.LoadAverageAtStart}, at end {r.LoadAverageAtEnd}; each row shows the load average just before it.");
        s.AppendLine("Load generator (wrk/h2load), simulator, Redis, issuer and OTLP sink on core 0; the target alone on core 1.");
        if (r.Quick)
        {
            s.AppendLine();
            s.AppendLine("**Quick mode:** one 2-second warm-up slice and 2-second measurements — tiered compilation has not settled; use these figures to check the harness, not to judge performance.");
        }

        s.AppendLine();
        s.AppendLine("## Throughput (closed loop, saturated)");
        s.AppendLine();
        s.AppendLine("`× yarp` = req/s relative to yarp-plain in the same scenario; `CPU × yarp` = yarp-plain's CPU µs per request ÷ the target's (the harness-independent efficiency ratio; 1.0 = as cheap as plain YARP). " +
            "`core` = target CPU time ÷ wall time: below ~95 % the target was not the bottleneck (the shared harness core was), so req/s understates it and the CPU ratio is the better figure. Latencies here are saturated-queue figures, not service latency (see the paced table).");
        s.AppendLine();
        s.AppendLine("| scenario | target | req/s | × yarp | CPU µs/req | CPU × yarp | core | p50 ms | p99 ms | errors | load avg |");
        s.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var scenario in new[] { "small", "large", "stream", "callers", "h2-small" })
        {
            var yarp = Closed(r, "yarp-plain", scenario == "callers" ? "small" : scenario);
            foreach (var target in s_order)
            {
                var m = Closed(r, target, scenario);
                if (m is null)
                {
                    continue;
                }

                var ratio = yarp is null || yarp.RequestsPerSecond == 0 ? "–" : F(m.RequestsPerSecond / yarp.RequestsPerSecond, "0.00");
                var cpuRatio = yarp is null || m.CpuMicrosecondsPerRequest == 0 ? "–" : F(yarp.CpuMicrosecondsPerRequest / m.CpuMicrosecondsPerRequest, "0.00");
                s.AppendLine(inv, $"| {scenario} | {target} | {F(m.RequestsPerSecond, "0")} | {ratio} | {F(m.CpuMicrosecondsPerRequest, "0")} | {cpuRatio} | {F(m.TargetCoreBusy * 100, "0")} % | {F(m.P50Ms)} | {F(m.P99Ms)} | {m.Errors} | {m.LoadAverage} |");
            }
        }

        s.AppendLine();
        s.AppendLine("`callers` = the small chat with a different caller (RS256 token, own limit keys) on each request, round-robin over all minted tokens; its `× yarp` compares with yarp-plain's small chat. `direct` is the simulator itself, which shares core 0 with wrk. h2-small: h2load over HTTP/2 (prior knowledge), 8 clients × 8 streams; p50 column holds the mean.");
        s.AppendLine();
        s.AppendLine("## Latency below saturation (paced at half of each target's own small-chat capacity, `direct` at the same rate right after)");
        s.AppendLine();
        s.AppendLine("| target | nominal req/s | achieved | p50 ms | p90 ms | p99 ms | direct p50 | direct p99 | added p50 | added p99 | x-gateway-overhead-ms p50 / p90 / p99 / p99.9 | errors | load avg |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|");
        foreach (var p in r.Paced)
        {
            var t = p.Through;
            var ovh = t.OverheadP50Ms is null ? "–" : $"{F(t.OverheadP50Ms.Value)} / {F(t.OverheadP90Ms!.Value)} / {F(t.OverheadP99Ms!.Value)} / {F(t.OverheadP999Ms!.Value)}";
            s.AppendLine(inv, $"| {p.Target} | {F(p.NominalRate, "0")} | {F(t.RequestsPerSecond, "0")} | {F(t.P50Ms)} | {F(t.P90Ms)} | {F(t.P99Ms)} | {F(p.Direct.P50Ms)} | {F(p.Direct.P99Ms)} | {F(p.AddedP50Ms)} | {F(p.AddedP99Ms)} | {ovh} | {t.Errors + p.Direct.Errors} | {t.LoadAverage} |");
        }

        s.AppendLine();
        s.AppendLine("## Streaming time to first byte (50-chunk SSE, one request at a time, interleaved with direct)");
        s.AppendLine();
        s.AppendLine("| target | pairs | TTFB p50 ms | TTFB p99 ms | direct p50 | direct p99 | added p50 | failed |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var t in r.Ttfbs)
        {
            s.AppendLine(inv, $"| {t.Target} | {t.Pairs} | {F(t.P50Ms)} | {F(t.P99Ms)} | {F(t.DirectP50Ms)} | {F(t.DirectP99Ms)} | {F(t.AddedP50Ms)} | {t.Failed} |");
        }

        s.AppendLine();
        s.AppendLine("## Concurrency soak (slow SSE streams, 1 s between chunks)");
        s.AppendLine();
        s.AppendLine("| target | concurrent streams | chunks/stream | completed streams | RSS before MiB | max RSS MiB | CPU µs/stream | errors | load avg |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var k in r.Soaks)
        {
            s.AppendLine(inv, $"| {k.Target} | {k.Streams} | {k.ChunksPerStream} | {k.Measurement.Requests} | {F(k.RssBeforeBytes / 1048576.0, "0")} | {F(k.MaxRssBytes / 1048576.0, "0")} | {F(k.Measurement.CpuMicrosecondsPerRequest, "0")} | {k.Measurement.Errors} | {k.Measurement.LoadAverage} |");
        }

        s.AppendLine();
        s.AppendLine("## Issue #9 targets");
        s.AppendLine();
        s.AppendLine("| target | goal | measured | met |");
        s.AppendLine("|---|---|---|---|");
        void Goal(string name, string goal, double value, bool met, string format = "0.00") =>
            s.AppendLine(inv, $"| {name} | {goal} | {F(value, format)} | {(double.IsNaN(value) ? "not measured" : met ? "yes" : "**no**")} |");
        double Ratio(string a, string b, string scenario, bool cpu)
        {
            var ma = Closed(r, a, scenario);
            var mb = Closed(r, b, scenario);
            if (ma is null || mb is null || ma.CpuMicrosecondsPerRequest == 0 || mb.RequestsPerSecond == 0)
            {
                return double.NaN;
            }

            return cpu ? mb.CpuMicrosecondsPerRequest / ma.CpuMicrosecondsPerRequest : ma.RequestsPerSecond / mb.RequestsPerSecond;
        }

        foreach (var (scenario, goal) in new[] { ("small", 0.8), ("large", 0.5) })
        {
            var v = Ratio("gateway-full", "yarp-plain", scenario, cpu: false);
            Goal($"gateway-full ÷ yarp-plain, {scenario}, req/s", $"≥ {goal:0.00}", v, v >= goal);
            v = Ratio("gateway-full", "yarp-plain", scenario, cpu: true);
            Goal($"gateway-full ÷ yarp-plain, {scenario}, per CPU µs", $"≥ {goal:0.00}", v, v >= goal);
        }

        var pk = Ratio("gateway-full", "portkey", "small", cpu: false);
        Goal("gateway-full ÷ portkey, small, req/s", "≥ 12", pk, pk >= 12);
        pk = Ratio("gateway-full", "portkey", "small", cpu: true);
        Goal("gateway-full ÷ portkey, small, per CPU µs", "≥ 12", pk, pk >= 12);
        var full = r.Paced.LastOrDefault(p => p.Target == "gateway-full");
        var yarpPaced = r.Paced.LastOrDefault(p => p.Target == "yarp-plain");
        Goal("gateway-full added p50 over direct at half saturation (ms)", "≤ 0.30", full?.AddedP50Ms ?? double.NaN, full?.AddedP50Ms <= 0.3, "0.000");
        var p99 = full is null || yarpPaced is null ? double.NaN : full.AddedP99Ms - yarpPaced.AddedP99Ms;
        Goal("gateway-full added p99 − yarp-plain added p99 (ms)", "≤ 0.50", p99, p99 <= 0.5, "0.000");
        var ttfb = r.Ttfbs.LastOrDefault(t => t.Target == "gateway-full");
        Goal("gateway-full streaming TTFB added p50 (ms)", "≤ 1.0", ttfb?.AddedP50Ms ?? double.NaN, ttfb?.AddedP50Ms <= 1.0, "0.000");
        var soak = r.Soaks.LastOrDefault(k => k.Target == "gateway-full");
        // Only a soak that held every stream counts: refused streams (e.g. 503s) hold no memory.
        Goal($"gateway-full max RSS with {soak?.Streams ?? 5000} streams (MiB){(soak?.Measurement.Errors > 0 ? $", INVALID: {soak.Measurement.Errors} errors" : "")}", "< 1024 (at 5000 streams, no errors)",
            soak is null ? double.NaN : soak.MaxRssBytes / 1048576.0, soak?.MaxRssBytes < 1024L * 1024 * 1024 && soak.Measurement.Errors == 0, "0");

        s.AppendLine();
        s.AppendLine("## Warm-up (closed-loop small chat slices until three consecutive agree within 5 %)");
        s.AppendLine();
        foreach (var w in r.Warmups)
        {
            s.AppendLine(inv, $"- {w.Target}: {w.SliceSeconds:0} s slices: {string.Join(", ", w.SliceRequestsPerSecond.Select(x => x.ToString("0", inv)))} req/s — {(w.Settled ? "settled" : "not settled")}");
        }

        if (r.OtlpRequests > 0)
        {
            s.AppendLine();
            s.AppendLine(inv, $"The OTLP sink received {r.OtlpRequests} export requests from gateway-full (audit events, traces, metrics).");
        }

        s.AppendLine();
        s.AppendLine("![throughput and latency](chart.svg)");
        return s.ToString();
    }

    /// <summary>Two panels: req/s per scenario and target (left), added paced latency p50/p99 (right).</summary>
    public static string Svg(RunReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        const int W = 980, H = 420, Top = 50, Bottom = 330, LeftX = 60, LeftW = 520, RightX = 680, RightW = 260;
        var s = new StringBuilder();
        s.AppendLine(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"11\">");
        s.AppendLine(inv, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>");
        s.AppendLine(inv, $"<text x=\"{LeftX}\" y=\"22\" font-size=\"14\" font-weight=\"bold\">Throughput, req/s (closed loop; target alone on one core){(r.Quick ? " — quick mode" : "")}</text>");
        var scenarios = new[] { "small", "large", "stream", "callers" }.Where(sc => r.Measurements.Any(m => m.Scenario == sc && m.Mode == "closed")).ToArray();
        var max = r.Measurements.Where(m => m.Mode == "closed" && scenarios.Contains(m.Scenario)).Select(m => m.RequestsPerSecond).DefaultIfEmpty(1).Max();
        var scale = NiceCeiling(max);
        Axis(s, LeftX, LeftW, Top, Bottom, scale, "0");
        var groupW = scenarios.Length == 0 ? LeftW : LeftW / (double)scenarios.Length;
        var barW = (groupW - 16) / s_order.Length;
        for (var g = 0; g < scenarios.Length; g++)
        {
            for (var t = 0; t < s_order.Length; t++)
            {
                var m = Closed(r, s_order[t], scenarios[g]);
                if (m is null)
                {
                    continue;
                }

                var h = (Bottom - Top) * m.RequestsPerSecond / scale;
                var x = LeftX + g * groupW + 8 + t * barW;
                s.AppendLine(inv, $"<rect x=\"{x:0.#}\" y=\"{Bottom - h:0.#}\" width=\"{barW - 2:0.#}\" height=\"{h:0.#}\" fill=\"{s_colors[t]}\"><title>{s_order[t]} {scenarios[g]}: {m.RequestsPerSecond:0} req/s, {m.CpuMicrosecondsPerRequest:0} µs CPU/req</title></rect>");
            }

            s.AppendLine(inv, $"<text x=\"{LeftX + g * groupW + groupW / 2:0.#}\" y=\"{Bottom + 16}\" text-anchor=\"middle\">{scenarios[g]}</text>");
        }

        s.AppendLine(inv, $"<text x=\"{RightX}\" y=\"22\" font-size=\"14\" font-weight=\"bold\">Added latency over direct, ms</text>");
        s.AppendLine(inv, $"<text x=\"{RightX}\" y=\"38\">paced at half saturation: p50 (solid), p99 (light)</text>");
        var paced = r.Paced.OrderBy(p => Array.IndexOf(s_order, p.Target)).ToList();
        var lmax = NiceCeiling(paced.Select(p => Math.Max(p.AddedP99Ms, p.AddedP50Ms)).DefaultIfEmpty(0.1).Max());
        Axis(s, RightX, RightW, Top, Bottom, lmax, "0.0#");
        var pw = paced.Count == 0 ? RightW : RightW / (double)paced.Count;
        for (var i = 0; i < paced.Count; i++)
        {
            var color = s_colors[Math.Max(0, Array.IndexOf(s_order, paced[i].Target))];
            var x = RightX + i * pw + 6;
            var h50 = Math.Max(0, (Bottom - Top) * paced[i].AddedP50Ms / lmax);
            var h99 = Math.Max(0, (Bottom - Top) * paced[i].AddedP99Ms / lmax);
            s.AppendLine(inv, $"<rect x=\"{x:0.#}\" y=\"{Bottom - h50:0.#}\" width=\"{pw / 2 - 6:0.#}\" height=\"{h50:0.#}\" fill=\"{color}\"><title>{paced[i].Target} added p50 {paced[i].AddedP50Ms:0.000} ms</title></rect>");
            s.AppendLine(inv, $"<rect x=\"{x + pw / 2 - 4:0.#}\" y=\"{Bottom - h99:0.#}\" width=\"{pw / 2 - 6:0.#}\" height=\"{h99:0.#}\" fill=\"{color}\" fill-opacity=\"0.45\"><title>{paced[i].Target} added p99 {paced[i].AddedP99Ms:0.000} ms</title></rect>");
            s.AppendLine(inv, $"<text x=\"{x + pw / 2 - 6:0.#}\" y=\"{Bottom + 16}\" text-anchor=\"middle\" font-size=\"9\">{paced[i].Target}</text>");
        }

        for (var t = 0; t < s_order.Length; t++)
        {
            s.AppendLine(inv, $"<rect x=\"{LeftX + t * 120}\" y=\"{H - 40}\" width=\"12\" height=\"12\" fill=\"{s_colors[t]}\"/><text x=\"{LeftX + t * 120 + 16}\" y=\"{H - 30}\">{s_order[t]}</text>");
        }

        s.AppendLine(inv, $"<text x=\"{LeftX}\" y=\"{H - 10}\" fill=\"#555\">{r.Started:yyyy-MM-dd HH:mm} UTC, load average at start {r.LoadAverageAtStart}</text>");
        s.AppendLine("</svg>");
        return s.ToString();
    }

    private static void Axis(StringBuilder s, int x, int w, int top, int bottom, double scale, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        for (var i = 0; i <= 4; i++)
        {
            var y = bottom - (bottom - top) * i / 4.0;
            s.AppendLine(inv, $"<line x1=\"{x}\" x2=\"{x + w}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#ddd\"/><text x=\"{x - 4}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{(scale * i / 4).ToString(format, inv)}</text>");
        }
    }

    private static double NiceCeiling(double v)
    {
        if (v <= 0 || double.IsNaN(v))
        {
            return 1;
        }

        var p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (m * p >= v)
            {
                return m * p;
            }
        }

        return 10 * p;
    }
}
