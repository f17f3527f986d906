using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using AiGateway.LoadTests;

// The AiGateway load-test runner (issue #9). One command: see docs/performance.md.
//   dotnet run -c Release --project loadtests/AiGateway.LoadTests -- [--quick] [--no-build] [--targets a,b] [--streams N]
var options = RunOptions.Parse(args);
var repo = RunOptions.FindRepositoryRoot();
var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + (options.Quick ? "-quick" : "");
var outDir = Path.Combine(repo, "loadtests", "results", stamp);
var work = Path.Combine(outDir, "work");
Directory.CreateDirectory(work);
var report = new RunReport { Started = DateTime.UtcNow, Quick = options.Quick, Machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}", LoadAverageAtStart = ProcStats.LoadAverage() };
void Say(string text) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {text}");

const int HarnessCore = 0, TargetCore = 1;
// The runner itself (and with it wrk, h2load, the simulator, redis, the issuer and the OTLP sink) stays on core 0.
Setup.Run("taskset", $"-a -c -p {HarnessCore} {Environment.ProcessId}", quiet: true);
if (options.Ab == "audit")
{
    // Issue #6: there is no configuration that turns the audit journal off, by design (docs/performance.md "A/B: audit").
    Console.Error.WriteLine("--ab audit: the gateway has no switch to disable the audit journal (deliberately: it is a security control, not an option); " +
        "an in-process A/B is not possible without weakening it. The audit cost is measured with BenchmarkDotNet instead: " +
        "dotnet run -c Release --project loadtests/AiGateway.Benchmarks -- --filter '*Audit*' --job short (see docs/performance.md, \"A/B: audit\").");
    return 2;
}

if (options.Ab is not null && options.Ab is not ("limits" or "h2c") && !(options.Ab == "env" && options.AbEnvironment.Count > 0)
    && !(options.Ab == "base" && options.AbBase is not null && File.Exists(Path.Combine(options.AbBase, "src", "AiGateway", "bin", "Release", "net10.0", "AiGateway.dll"))))
{
    Console.Error.WriteLine($"--ab {options.Ab}: unknown; use --ab limits, --ab h2c, --ab env --ab-env NAME=VALUE [--ab-env …], " +
        "or --ab base --ab-base <checkout of another commit with `dotnet build -c Release src/AiGateway` done>");
    return 2;
}

if (!options.NoInstall)
{
    Setup.EnsureTools(repo, options.Targets.Contains("portkey"));
}

if (!options.NoBuild)
{
    foreach (var project in options.Ab is not null ? ["src/AiGateway", "src/LlmSimulator"] : new[] { "src/AiGateway", "src/LlmSimulator", "loadtests/AiGateway.LoadTests.YarpPlain" })
    {
        Say($"dotnet build -c Release {project}");
        Setup.Run("dotnet", $"build -c Release -nologo -v q {project}", workingDirectory: repo);
    }
}

var timing = options.Quick ? Timing.Quick : Timing.Full;
var script = Path.Combine(AppContext.BaseDirectory, "scripts", "post.lua");
var bin = (string project, string dll) => Path.Combine(repo, project, "bin", "Release", "net10.0", dll);
var children = new List<ChildProcess>();
var logs = Path.Combine(outDir, "logs");
Directory.CreateDirectory(logs);
using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(30) };

await using var issuer = new Issuer();
try
{
    await issuer.StartAsync(Net.FreePort());

    // The upstream: the simulator, 50 chunks per streamed reply, on the harness core.
    (ChildProcess Process, int Port, string Url) StartSimulator(string name, params string[] extra)
    {
        var port = Net.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var process = ChildProcess.Start(name, HarnessCore, "dotnet",
            [bin("src/LlmSimulator", "LlmSimulator.dll"), "--urls", url, .. extra, "--Simulator:RecordRequests=false", "--Simulator:DefaultChunks=50", "--Logging:LogLevel:Default=Warning"],
            Path.Combine(logs, name + ".log"));
        children.Add(process);
        return (process, port, url);
    }

    var (sim, _, simUrl) = StartSimulator("simulator");
    await Net.WaitUntilAsync(async () => (await http.GetAsync(simUrl + "/health")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "simulator", sim);

    // --ab h2c: a second, identical simulator that speaks only HTTP/2 (cleartext, prior knowledge) for gateway-full-h2c.
    var simH2Url = "";
    if (options.Ab == "h2c")
    {
        var (simH2, simH2Port, url) = StartSimulator("simulator-h2", "--Kestrel:EndpointDefaults:Protocols=Http2");
        simH2Url = url;
        await Net.WaitUntilAsync(() => Task.FromResult(Setup.TryConnect(simH2Port)), TimeSpan.FromSeconds(30), "simulator-h2", simH2);
    }

    ChildProcess? redis = null;
    var redisPort = Net.FreePort();
    if (options.Targets.Any(t => t.StartsWith("gateway-full", StringComparison.Ordinal) || t is "gateway-limits-on" or "gateway-limits-off"))
    {
        redis = ChildProcess.Start("redis", HarnessCore, "redis-server",
            ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxclients", "20000"],
            Path.Combine(logs, "redis.log"));
        children.Add(redis);
        await Net.WaitUntilAsync(() => Task.FromResult(Setup.TryConnect(redisPort)), TimeSpan.FromSeconds(15), "redis-server", redis);
    }

    // Bodies and header files.
    var bodies = Workload.WriteBodies(work, options.Quick);
    var token = issuer.Mint(1, "single-")[0];
    var tokensFile = Path.Combine(work, "tokens.txt");
    var callerCount = options.Quick ? 1000 : 10_000;
    Say($"minting {callerCount} RS256 tokens");
    await File.WriteAllLinesAsync(tokensFile, issuer.Mint(callerCount));
    var plainHeaders = Workload.WriteHeaders(work, "plain", token, []);
    var portkeyHeaders = Workload.WriteHeaders(work, "portkey", token, ["x-portkey-provider: openai", $"x-portkey-custom-host: {simUrl}/v1"]);

    var direct = new TargetHandle("direct", simUrl, sim.Pid, plainHeaders);
    var measurements = report.Measurements;

    async Task<Measurement> MeasureAsync(TargetHandle target, string scenario, string mode, Load load, int connections, double seconds, double delayMs = 0, bool overhead = false, double timeout = 10, int threads = 1)
    {
        var loadBefore = ProcStats.LoadAverage();
        var cpu0 = ProcStats.CpuMicroseconds(target.Pid);
        var r = await Wrk.RunAsync(target.Url + "/v1/chat/completions", load, connections, threads, seconds, HarnessCore, script, delayMs, overhead, timeout);
        var cpu = ProcStats.CpuMicroseconds(target.Pid) - cpu0;
        var m = new Measurement
        {
            Target = target.Name, Scenario = scenario, Mode = mode, Connections = connections, Requests = r.Requests, Errors = r.Errors + r.Non200,
            RequestsPerSecond = r.RequestsPerSecond, P50Ms = r.P50Us / 1000.0, P90Ms = r.P90Us / 1000.0, P99Ms = r.P99Us / 1000.0, P999Ms = r.P999Us / 1000.0,
            CpuMicrosecondsPerRequest = r.Requests == 0 ? 0 : cpu / r.Requests, TargetCoreBusy = r.DurationUs == 0 ? 0 : cpu / r.DurationUs,
            OverheadP50Ms = r.OvhCount > 0 ? r.OvhP50Ms : null, OverheadP90Ms = r.OvhCount > 0 ? r.OvhP90Ms : null, OverheadP99Ms = r.OvhCount > 0 ? r.OvhP99Ms : null,
            OverheadP999Ms = r.OvhCount > 0 ? r.OvhP999Ms : null, LoadAverage = loadBefore,
        };
        Say($"{target.Name,-16} {scenario,-8} {mode,-7} {m.RequestsPerSecond,9:0} req/s  p50 {m.P50Ms,7:0.000} ms  p99 {m.P99Ms,7:0.000} ms  cpu {m.CpuMicrosecondsPerRequest,7:0} µs/req  core {m.TargetCoreBusy:P0}  err {m.Errors}" +
            (m.OverheadP50Ms is null ? "" : $"  overhead p50 {m.OverheadP50Ms:0.000} p99 {m.OverheadP99Ms:0.000} ms") + $"  load {loadBefore}");
        return m;
    }

    async Task WarmUpAsync(TargetHandle target, bool dotnet)
    {
        var load = new Load(bodies["small"], target.HeadersFile);
        var minSlices = options.Quick ? 1 : (dotnet ? timing.WarmupMinSlicesDotnet : 2);
        var rates = new List<double>();
        var settled = false;
        for (var i = 0; i < timing.WarmupMaxSlices; i++)
        {
            var r = await Wrk.RunAsync(target.Url + "/v1/chat/completions", load, timing.Connections, 1, timing.WarmupSliceSeconds, HarnessCore, script);
            rates.Add(Math.Round(r.RequestsPerSecond));
            // Three consecutive slices within 5 % of each other, after at least 120 s for .NET: two slices within 3 %
            // agreed on a temporary plateau in the middle of tiered compilation (gateway-full: ~3 700 req/s at 90–100 s,
            // then 4 200–5 700 later); 10-s slices of a settled target still differ by up to ~7 % on this machine.
            if (rates.Count >= Math.Max(3, minSlices) && rates[^3..].Max() / Math.Max(1, rates[^3..].Min()) < 1.05)
            {
                settled = true;
                break;
            }

            if (options.Quick && rates.Count >= minSlices)
            {
                break;
            }
        }

        report.Warmups.Add(new Warmup(target.Name, timing.WarmupSliceSeconds, rates, settled));
        Say($"{target.Name}: warm-up slices {string.Join(", ", rates)} req/s{(settled ? " (settled)" : " (NOT settled)")}");
    }

    async Task ThroughputAsync(TargetHandle target, IEnumerable<string> scenarios)
    {
        foreach (var scenario in scenarios)
        {
            var load = new Load(bodies[scenario], target.HeadersFile, scenario == "callers" ? tokensFile : null);
            await Wrk.RunAsync(target.Url + "/v1/chat/completions", load, timing.Connections, 1, timing.PrewarmSeconds, HarnessCore, script);
            measurements.Add(await MeasureAsync(target, scenario, "closed", load, timing.Connections, timing.MeasureSeconds));
        }
    }

    async Task PacedAsync(TargetHandle target)
    {
        var closed = measurements.Last(m => m.Target == target.Name && m.Scenario == "small" && m.Mode == "closed");
        var rate = Math.Max(50, closed.RequestsPerSecond / 2);
        var connections = (int)Math.Clamp(rate / 200, 4, 64);
        var delayMs = connections * 1000.0 / rate;
        var t = await MeasureAsync(target, "small", "paced", new Load(bodies["small"], target.HeadersFile), connections, timing.PacedSeconds, delayMs, overhead: true);
        var d = await MeasureAsync(direct, "small", "paced", new Load(bodies["small"], direct.HeadersFile), connections, timing.PacedSeconds, delayMs);
        report.Paced.Add(new PacedPair(target.Name, rate, t, d));
    }

    async Task TtfbAsync(TargetHandle target)
    {
        var body = await File.ReadAllBytesAsync(bodies["stream"]);
        var extra = File.ReadAllLines(target.HeadersFile);
        var directExtra = File.ReadAllLines(direct.HeadersFile);
        var t = new List<double>();
        var d = new List<double>();
        var buffer = new byte[1];
        async Task<double> OneAsync(string url, string[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url + "/v1/chat/completions") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            foreach (var h in headers)
            {
                var i = h.IndexOf(':', StringComparison.Ordinal);
                if (!h.StartsWith("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    request.Headers.TryAddWithoutValidation(h[..i], h[(i + 1)..].Trim());
                }
            }

            var start = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            _ = await stream.ReadAsync(buffer);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            await stream.CopyToAsync(Stream.Null);
            return response.IsSuccessStatusCode ? elapsed : double.NaN;
        }

        for (var i = 0; i < timing.TtfbPairs; i++)
        {
            // Interleaved so both see the same machine state.
            d.Add(await OneAsync(direct.Url, directExtra));
            t.Add(await OneAsync(target.Url, extra));
        }

        var ttfb = new Ttfb(target.Name, timing.TtfbPairs, Stats.Percentile(t, 50), Stats.Percentile(t, 99), Stats.Percentile(d, 50), Stats.Percentile(d, 99), t.Count(double.IsNaN));
        report.Ttfbs.Add(ttfb);
        Say($"{target.Name}: TTFB p50 {ttfb.P50Ms:0.000} ms vs direct {ttfb.DirectP50Ms:0.000} ms (p99 {ttfb.P99Ms:0.000} vs {ttfb.DirectP99Ms:0.000})");
    }

    async Task SoakAsync(TargetHandle target)
    {
        var streams = options.Streams ?? (options.Quick ? 500 : 5000);
        var load = new Load(bodies["soak"], target.HeadersFile);
        var maxRss = 0L;
        var rssBefore = ProcStats.RssBytes(target.Pid);
        using var cts = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                maxRss = Math.Max(maxRss, ProcStats.RssBytes(target.Pid));
                try { await Task.Delay(250, cts.Token); } catch (OperationCanceledException) { }
            }
        });
        var m = await MeasureAsync(target, "soak", "streams", load, streams, timing.SoakSeconds, timeout: Workload.SoakChunks(options.Quick) + 30, threads: 2);
        await cts.CancelAsync();
        await sampler;
        report.Soaks.Add(new Soak(target.Name, streams, Workload.SoakChunks(options.Quick), rssBefore, maxRss, m));
        Say($"{target.Name}: soak {streams} streams, RSS {rssBefore / 1048576.0:0} → max {maxRss / 1048576.0:0} MiB");
    }

    async Task H2Async(TargetHandle target)
    {
        string[] headers = [.. File.ReadAllLines(target.HeadersFile).Where(h => h.Length > 0).Select(h => h.ToLowerInvariant().StartsWith("content-type", StringComparison.Ordinal) ? h : h)];
        await H2Load.RunAsync(target.Url + "/v1/chat/completions", bodies["small"], headers, 8, 8, timing.PrewarmSeconds, HarnessCore);
        var cpu0 = ProcStats.CpuMicroseconds(target.Pid);
        var r = await H2Load.RunAsync(target.Url + "/v1/chat/completions", bodies["small"], headers, 8, 8, timing.MeasureSeconds, HarnessCore);
        var cpu = ProcStats.CpuMicroseconds(target.Pid) - cpu0;
        var m = new Measurement
        {
            Target = target.Name, Scenario = "h2-small", Mode = "closed", Connections = 8, Requests = r.Succeeded, Errors = r.Failed, RequestsPerSecond = r.RequestsPerSecond,
            P50Ms = r.MeanMs, CpuMicrosecondsPerRequest = r.Succeeded == 0 ? 0 : cpu / (r.Succeeded + r.Failed), TargetCoreBusy = cpu / (timing.MeasureSeconds * 1e6), LoadAverage = ProcStats.LoadAverage(),
            Note = "h2load: P50Ms holds the mean",
        };
        measurements.Add(m);
        Say($"{target.Name,-16} h2-small closed  {m.RequestsPerSecond,9:0} req/s  mean {r.MeanMs:0.000} ms  cpu {m.CpuMicrosecondsPerRequest:0} µs/req  failed {r.Failed}");
    }

    async Task<(ChildProcess Process, TargetHandle Handle)> StartTargetAsync(string name, bool http2)
    {
        var port = Net.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var extra = http2 ? new[] { "--Kestrel:EndpointDefaults:Protocols=Http2" } : [];
        ChildProcess process;
        var headers = plainHeaders;
        var env = options.TargetEnvironment;
        switch (name)
        {
            case "yarp-plain":
                process = ChildProcess.Start(name, TargetCore, "dotnet", [bin("loadtests/AiGateway.LoadTests.YarpPlain", "AiGateway.LoadTests.YarpPlain.dll"), "--urls", url, "--Upstream", simUrl, .. extra], Path.Combine(logs, name + (http2 ? "-h2" : "") + ".log"), environment: env);
                break;
            case "gateway-minimal":
            case "gateway-full":
            case "gateway-full-env":
            case "gateway-full-h2c":
            case "gateway-full-base":
                // gateway-full-env: gateway-full with the --ab-env variables added (A/B of a runtime setting, e.g. the GC mode).
                // gateway-full-h2c: gateway-full towards the HTTP/2-only simulator, its provider set to httpVersion "2".
                var full = name != "gateway-minimal";
                var h2c = name == "gateway-full-h2c";
                if (name == "gateway-full-env")
                {
                    env = new Dictionary<string, string>(env);
                    foreach (var (k, v) in options.AbEnvironment)
                    {
                        env[k] = v;
                    }
                }

                var dir = Path.Combine(work, name);
                GatewayConfig.Write(dir, h2c ? simH2Url : simUrl, issuer.Authority, Issuer.Audience, full, full ? $"127.0.0.1:{redisPort}" : null, full ? issuer.BaseUrl : null, h2c ? "2" : null);
                // gateway-full-base: gateway-full built from another commit (--ab-base), for before/after ratios in one run.
                var gatewayDll = name == "gateway-full-base"
                    ? Path.Combine(options.AbBase!, "src", "AiGateway", "bin", "Release", "net10.0", "AiGateway.dll")
                    : bin("src/AiGateway", "AiGateway.dll");
                process = ChildProcess.Start(name, TargetCore, "dotnet",
                    [gatewayDll, "--urls", url, "--Gateway:ConfigDirectory", Path.Combine(dir, "config"), "--Gateway:DataDirectory", Path.Combine(dir, "data"), "--environment", "Production",
                     "--Logging:LogLevel:Default=Warning", .. extra],
                    Path.Combine(logs, name + (http2 ? "-h2" : "") + ".log"), environment: env);
                break;
            case "gateway-limits-on":
            case "gateway-limits-off":
                // A/B of issue #5: the same config (Redis limit store, no OTLP, inspectAnswers false) with and without per-caller limits.
                var abDir = Path.Combine(work, name);
                GatewayConfig.WriteLimitsAb(abDir, simUrl, issuer.Authority, Issuer.Audience, $"127.0.0.1:{redisPort}", limits: name == "gateway-limits-on");
                process = ChildProcess.Start(name, TargetCore, "dotnet",
                    [bin("src/AiGateway", "AiGateway.dll"), "--urls", url, "--Gateway:ConfigDirectory", Path.Combine(abDir, "config"), "--Gateway:DataDirectory", Path.Combine(abDir, "data"), "--environment", "Production",
                     "--Logging:LogLevel:Default=Warning", .. extra],
                    Path.Combine(logs, name + (http2 ? "-h2" : "") + ".log"), environment: env);
                break;
            case "portkey":
                var pk = Path.Combine(repo, "loadtests", "portkey", "node_modules", "@portkey-ai", "gateway");
                process = ChildProcess.Start(name, TargetCore, "node", ["build/start-server.js", $"--port={port}", "--headless"], Path.Combine(logs, "portkey.log"), workingDirectory: pk,
                    environment: new Dictionary<string, string> { ["NODE_ENV"] = "production" });
                headers = portkeyHeaders;
                break;
            default:
                throw new ArgumentException($"unknown target {name}");
        }

        children.Add(process);
        var handle = new TargetHandle(name, url, process.Pid, headers);
        if (!http2)
        {
            // Ready = one real chat completion through the target answers 200 (proves config, token and upstream).
            var smallBody = await File.ReadAllBytesAsync(bodies["small"]);
            var headerLines = File.ReadAllLines(headers);
            await Net.WaitUntilAsync(async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url + "/v1/chat/completions") { Content = new ByteArrayContent(smallBody) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                foreach (var h in headerLines.Where(h => h.Length > 0 && !h.StartsWith("Content-Type", StringComparison.OrdinalIgnoreCase)))
                {
                    var i = h.IndexOf(':', StringComparison.Ordinal);
                    request.Headers.TryAddWithoutValidation(h[..i], h[(i + 1)..].Trim());
                }

                using var response = await http.SendAsync(request);
                if (response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.BadRequest)
                {
                    throw new InvalidOperationException($"{name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }

                return response.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(60), name, process);
        }
        else
        {
            await Net.WaitUntilAsync(() => Task.FromResult(Setup.TryConnect(port)), TimeSpan.FromSeconds(60), name + " (h2)", process);
            await Task.Delay(500);
        }

        return (process, handle);
    }

    if (options.Ab is "limits" or "env" or "h2c" or "base")
    {
        // Issue #5 (limits on vs off), or gateway-full with vs without --ab-env settings: both gateways run at once (both
        // pinned to the target core; only one is loaded at a time) and their slices alternate A, B, A, B … so the
        // machine's noise hits both alike.
        var (aName, bName) = (options.Targets[0], options.Targets[1]); // RunOptions.Parse: A then B
        var title = options.Ab switch
        {
            "limits" => "limits",
            "h2c" => "upstream HTTP/2 (h2c) vs HTTP/1.1",
            "base" => $"this build vs the build in {options.AbBase}",
            _ => "env " + string.Join(" ", options.AbEnvironment.Select(kv => $"{kv.Key}={kv.Value}")),
        };
        var a = await StartTargetAsync(aName, http2: false);
        var b = await StartTargetAsync(bName, http2: false);
        try
        {
            var ab = new AbRun(title, aName, bName, options.AbSlices, options.AbSeconds, ProcStats.LoadAverage());
            var smallLoad = (TargetHandle t) => new Load(bodies["small"], t.HeadersFile);
            Say($"A/B {title}: warm-up {options.AbWarmupPairs} × ({timing.WarmupSliceSeconds} s A + {timing.WarmupSliceSeconds} s B)");
            for (var i = 0; i < options.AbWarmupPairs; i++)
            {
                foreach (var t in new[] { a.Handle, b.Handle })
                {
                    var r = await Wrk.RunAsync(t.Url + "/v1/chat/completions", smallLoad(t), timing.Connections, 1, timing.WarmupSliceSeconds, HarnessCore, script);
                    ab.Warmup.Add($"{t.Name} {r.RequestsPerSecond:0}");
                    Say($"warm-up {t.Name} {r.RequestsPerSecond:0} req/s");
                }
            }

            for (var i = 0; i < options.AbSlices; i++)
            {
                var pair = new List<(Measurement M, double RedisCommands, string Commands, double RedisCpu)>();
                foreach (var t in new[] { a.Handle, b.Handle })
                {
                    var before = Setup.RedisCommandStats(redisPort);
                    var redisCpu = redis is null ? 0 : ProcStats.CpuMicroseconds(redis.Pid);
                    var m = await MeasureAsync(t, "small", "ab", smallLoad(t), timing.Connections, options.AbSeconds);
                    redisCpu = redis is null ? 0 : ProcStats.CpuMicroseconds(redis.Pid) - redisCpu;
                    var after = Setup.RedisCommandStats(redisPort);
                    // Minus the one INFO call of the "after" sample.
                    var diff = after.Keys.Select(k => (k, n: after[k] - before.GetValueOrDefault(k) - (k == "info" ? 1 : 0))).Where(x => x.n > 0).ToList();
                    var total = diff.Sum(x => x.n);
                    // Every gateway Redis call is one script (EVALSHA, or EVAL/SCRIPT on a cache miss): those are the round trips;
                    // commandstats also counts the commands run inside the scripts.
                    var trips = diff.Where(x => x.k is "evalsha" or "eval" or "script").Sum(x => x.n);
                    pair.Add((m, m.Requests == 0 ? 0 : trips / (double)m.Requests,
                        string.Join(" ", diff.OrderByDescending(x => x.n).Select(x => $"{x.k}:{(m.Requests == 0 ? 0 : x.n / (double)m.Requests):0.00}")),
                        m.Requests == 0 ? 0 : redisCpu / m.Requests));
                    Say($"  redis round trips (scripts) per request {pair[^1].RedisCommands:0.00}; commands incl. inside scripts {(m.Requests == 0 ? 0 : total / (double)m.Requests):0.00} ({pair[^1].Commands})");
                }

                ab.Pairs.Add(new AbPair(pair[0].M, pair[1].M, pair[0].RedisCommands, pair[1].RedisCommands, pair[0].Commands, pair[1].Commands, pair[0].RedisCpu, pair[1].RedisCpu));
            }

            ab.LoadAverageAtEnd = ProcStats.LoadAverage();
            var md = ab.ToMarkdown();
            var file = $"ab-{options.Ab}.md";
            File.WriteAllText(Path.Combine(outDir, file), md);
            File.Copy(Path.Combine(outDir, file), Path.Combine(repo, "loadtests", "results", "latest-" + file), overwrite: true);
            Console.WriteLine();
            Console.WriteLine(md);
        }
        finally
        {
            foreach (var p in new[] { a.Process, b.Process })
            {
                p.Dispose();
                children.Remove(p);
            }
        }

        return 0;
    }

    // direct: the simulator alone (it shares the harness core, so its closed-loop figures are a floor, not a ceiling).
    if (options.Targets.Contains("direct"))
    {
        Say("target direct");
        await WarmUpAsync(direct, dotnet: true);
        await ThroughputAsync(direct, options.Scenarios.Where(s => s is "small" or "large" or "stream"));
    }

    foreach (var name in options.Targets.Where(t => t != "direct"))
    {
        Say($"target {name}");
        var (process, target) = await StartTargetAsync(name, http2: false);
        try
        {
            await WarmUpAsync(target, dotnet: name != "portkey");
            var scenarios = options.Scenarios.Where(s => s is "small" or "large" or "stream" || (s == "callers" && name.StartsWith("gateway", StringComparison.Ordinal))).ToList();
            await ThroughputAsync(target, scenarios);
            if (options.Scenarios.Contains("paced"))
            {
                await PacedAsync(target);
            }

            if (options.Scenarios.Contains("ttfb"))
            {
                await TtfbAsync(target);
            }

            if (options.Scenarios.Contains("soak") && (name == "gateway-full" || (!options.Quick && name == "yarp-plain")))
            {
                await SoakAsync(target);
            }
        }
        finally
        {
            process.Dispose();
            children.Remove(process);
        }

        if (options.Scenarios.Contains("h2") && name is "yarp-plain" or "gateway-full")
        {
            var (p2, t2) = await StartTargetAsync(name, http2: true);
            try
            {
                await H2Async(t2);
            }
            finally
            {
                p2.Dispose();
                children.Remove(p2);
            }
        }
    }

    report.OtlpRequests = issuer.OtlpRequests;
}
finally
{
    foreach (var child in children)
    {
        child.Dispose();
    }

    // The targets' data directories hold their audit journals: gigabytes after a few minutes under load. Whatever way
    // the run ends (report, A/B, failure), they go; the logs and the report stay.
    try
    {
        Directory.Delete(work, recursive: true);
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"could not delete {work}: {ex.Message}");
    }
}

report.Finished = DateTime.UtcNow;
report.LoadAverageAtEnd = ProcStats.LoadAverage();
report.Timing = timing;
ReportWriter.Write(report, outDir);
// The latest run is also copied next to the run folders for the docs.
foreach (var f in new[] { "report.md", "results.json", "chart.svg" })
{
    File.Copy(Path.Combine(outDir, f), Path.Combine(repo, "loadtests", "results", (options.Quick ? "latest-quick-" : "latest-") + f), overwrite: true);
}

Say($"report: {Path.Combine(outDir, "report.md")}");
Console.WriteLine();
Console.WriteLine(File.ReadAllText(Path.Combine(outDir, "report.md")));
return 0;

internal sealed record TargetHandle(string Name, string Url, int Pid, string HeadersFile);

internal sealed record RunOptions(bool Quick, bool NoBuild, bool NoInstall, List<string> Targets, List<string> Scenarios, int? Streams, Dictionary<string, string> TargetEnvironment,
    string? Ab = null, int AbSlices = 8, double AbSeconds = 15, int AbWarmupPairs = 5, Dictionary<string, string>? AbEnv = null, string? AbBase = null)
{
    /// <summary><c>--ab-env NAME=VALUE</c> (repeatable): what <c>--ab env</c>'s A side adds to gateway-full's environment.</summary>
    public Dictionary<string, string> AbEnvironment => AbEnv ?? [];

    public static readonly string[] AllTargets = ["direct", "yarp-plain", "gateway-minimal", "gateway-full", "portkey"];
    public static readonly string[] AllScenarios = ["small", "large", "stream", "callers", "paced", "ttfb", "soak", "h2"];

    public static RunOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        string? Value(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        var ab = Value("--ab");
        var targets = ab switch
        {
            "limits" => ["gateway-limits-on", "gateway-limits-off"],
            "env" => ["gateway-full-env", "gateway-full"],
            "h2c" => ["gateway-full-h2c", "gateway-full"],
            "base" => ["gateway-full", "gateway-full-base"],
            _ => Value("--targets")?.Split(',').ToList() ?? [.. AllTargets],
        };
        var scenarios = Value("--scenarios")?.Split(',').ToList() ?? [.. AllScenarios.Where(s => !quick || s != "h2")];
        if (scenarios.Contains("paced") && !scenarios.Contains("small"))
        {
            scenarios.Insert(0, "small"); // paced runs at half of the target's small-chat capacity, measured by "small"
        }

        Dictionary<string, string> Pairs(string option)
        {
            var pairs = new Dictionary<string, string>();
            for (var i = 0; i < args.Length - 1; i++)
            {
                if (args[i] == option)
                {
                    var kv = args[i + 1].Split('=', 2);
                    pairs[kv[0]] = kv.Length > 1 ? kv[1] : "";
                }
            }

            return pairs;
        }

        var env = Pairs("--target-env");

        return new RunOptions(quick, args.Contains("--no-build"), args.Contains("--no-install"), targets, scenarios,
            Value("--streams") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : null, env,
            ab,
            Value("--ab-slices") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : quick ? 2 : 8,
            Value("--ab-seconds") is { } sec ? double.Parse(sec, CultureInfo.InvariantCulture) : quick ? 3 : 15,
            Value("--ab-warmup-pairs") is { } w ? int.Parse(w, CultureInfo.InvariantCulture) : quick ? 1 : 5,
            Pairs("--ab-env"),
            Value("--ab-base") is { } b ? Path.GetFullPath(b) : null);
    }

    public static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AiGateway.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }
}

internal sealed record Timing(double WarmupSliceSeconds, int WarmupMinSlicesDotnet, int WarmupMaxSlices, double PrewarmSeconds, double MeasureSeconds, double PacedSeconds, int TtfbPairs, double SoakSeconds, int Connections)
{
    public static readonly Timing Quick = new(2, 1, 1, 1, 2, 2, 50, 5, 32);
    public static readonly Timing Full = new(10, 12, 18, 5, 20, 20, 1000, 45, 32);
}

internal static class Workload
{
    public static int SoakChunks(bool quick) => quick ? 3 : 20;

    private const string Sentence = "The quarterly logistics review covers fleet maintenance schedules, fuel budgets and depot staffing for the northern region. ";

    /// <summary>Writes the request bodies: small (1 KiB), large (32 KiB), stream (50 chunks), soak (slow stream).</summary>
    public static Dictionary<string, string> WriteBodies(string dir, bool quick)
    {
        var files = new Dictionary<string, string>
        {
            ["small"] = Write(dir, "small", Chat(1024, "")),
            ["large"] = Write(dir, "large", Chat(32 * 1024, "")),
            ["stream"] = Write(dir, "stream", Chat(1024, "\"stream\":true,\"stream_options\":{\"include_usage\":true},")),
            ["soak"] = Write(dir, "soak", Chat(1024, "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"simulator\":{\"chunks\":" + SoakChunks(quick) + ",\"chunk_delay_ms\":1000},")),
        };
        files["callers"] = files["small"];
        return files;
    }

    /// <summary>An OpenAI chat body of exactly <paramref name="size"/> bytes (system + user message).</summary>
    private static string Chat(int size, string extra)
    {
        var head = "{\"model\":\"gpt-4o-mini\"," + extra + "\"max_tokens\":256,\"messages\":[{\"role\":\"system\",\"content\":\"You are a concise assistant for agency staff.\"},{\"role\":\"user\",\"content\":\"";
        const string Tail = "\"}]}";
        var room = size - head.Length - Tail.Length;
        var text = new StringBuilder();
        while (text.Length < room)
        {
            text.Append(Sentence);
        }

        return head + text.ToString(0, room) + Tail;
    }

    private static string Write(string dir, string name, string content)
    {
        var path = Path.Combine(dir, name + ".json");
        File.WriteAllText(path, content);
        return path;
    }

    public static string WriteHeaders(string dir, string name, string token, string[] extra)
    {
        var path = Path.Combine(dir, name + ".headers");
        File.WriteAllLines(path, ["Content-Type: application/json", "Authorization: Bearer " + token, .. extra]);
        return path;
    }
}

internal static class Stats
{
    public static double Percentile(List<double> values, double p)
    {
        var v = values.Where(x => !double.IsNaN(x)).Order().ToList();
        if (v.Count == 0)
        {
            return double.NaN;
        }

        return v[Math.Clamp((int)Math.Ceiling(v.Count * p / 100) - 1, 0, v.Count - 1)];
    }
}
