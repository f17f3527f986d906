using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace AiGateway.LoadTests;

/// <summary>Installs what the runner drives (Debian packages, the Portkey npm package) and runs helper commands.</summary>
internal static class Setup
{
    public static void EnsureTools(string repo, bool portkey)
    {
        var missing = new List<string>();
        if (!OnPath("wrk")) missing.Add("wrk");
        if (!OnPath("h2load")) missing.Add("nghttp2-client");
        if (!OnPath("redis-server")) missing.Add("redis-server");
        if (portkey && !OnPath("node")) missing.AddRange(["nodejs", "npm"]);
        if (missing.Count > 0)
        {
            Console.WriteLine($"apt-get install {string.Join(' ', missing)}");
            Run("apt-get", "update -qq");
            Run("apt-get", $"install -y -qq {string.Join(' ', missing)}", environment: new() { ["DEBIAN_FRONTEND"] = "noninteractive" });
        }

        var portkeyDir = Path.Combine(repo, "loadtests", "portkey");
        if (portkey && !Directory.Exists(Path.Combine(portkeyDir, "node_modules", "@portkey-ai", "gateway", "build")))
        {
            Console.WriteLine("npm ci (loadtests/portkey)");
            Run("npm", "ci --no-audit --no-fund", workingDirectory: portkeyDir);
        }
    }

    public static bool TryConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static void Run(string file, string arguments, string? workingDirectory = null, bool quiet = false, Dictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file, arguments) { UseShellExecute = false, RedirectStandardOutput = quiet, WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory };
        foreach (var (k, v) in environment ?? [])
        {
            info.Environment[k] = v;
        }

        using var p = Process.Start(info)!;
        if (quiet)
        {
            p.StandardOutput.ReadToEnd();
        }

        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {arguments} did not finish in 10 minutes");
        }

        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed with exit code {p.ExitCode}");
        }
    }

    /// <summary>Redis <c>INFO commandstats</c>: calls per command (lower case), read with redis-cli.</summary>
    public static Dictionary<string, long> RedisCommandStats(int port)
    {
        var info = new ProcessStartInfo("redis-cli", ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "info", "commandstats"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(info)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit(10_000);
        var stats = new Dictionary<string, long>();
        foreach (var line in text.Split('\n'))
        {
            // cmdstat_evalsha:calls=12,usec=...
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                var name = line[8..line.IndexOf(':', StringComparison.Ordinal)];
                var calls = line.Split(':', 2)[1].Split(',')[0].Split('=')[1];
                stats[name] = long.Parse(calls, CultureInfo.InvariantCulture);
            }
        }

        return stats;
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));
}

/// <summary>The gateway's configuration directory for one target (gateway-minimal or gateway-full).</summary>
internal static class GatewayConfig
{
    /// <summary>
    /// Issue #5 A/B: gateway-minimal's policies (no OTLP, inspectAnswers false) with the Redis limit store, with
    /// (<paramref name="limits"/>) or without per-caller requestsPerMinute 10 000 000 and tokensPerMinute 2 000 000 000 (never refused: each small chat reserves ~500 tokens, so 10 000 000 tokens/min would refuse above ~330 req/s).
    /// </summary>
    public static void WriteLimitsAb(string dir, string simulatorUrl, string authority, string audience, string redis, bool limits)
    {
        var config = Path.Combine(dir, "config");
        Directory.CreateDirectory(Path.Combine(config, "agencies"));
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        File.WriteAllText(Path.Combine(config, "gateway.json"), $$"""
            {
              "forwarding": { "maxAttempts": 2, "upstreamTimeoutSeconds": 120 },
              "limitStore": { "type": "redis", "redis": "{{redis}}" },
              "audit": {},
              "providers": { "sim": { "api": "openai", "baseUrl": "{{simulatorUrl}}" } },
              "models": { "gpt-4o-mini": { "ceiling": "UNCLASSIFIED", "deployments": [{ "provider": "sim" }],
                                           "pricing": { "inputPerMillion": 0.15, "outputPerMillion": 0.6 } } }
            }
            """);
        var limitsJson = limits
            ? """
              "limits": { "perCaller": { "requestsPerMinute": 10000000, "tokensPerMinute": 2000000000 } },
              """
            : "";
        File.WriteAllText(Path.Combine(config, "agencies", "perf.json"), $$"""
            {
              "name": "perf",
              "models": ["*"],
              "identity": { "providers": [ { "type": "oidc", "authority": "{{authority}}", "audiences": ["{{audience}}"], "requireHttpsMetadata": false } ] },
              "roles": { "user": { "models": ["*"] } },
              {{limitsJson}}
              "inspection": { "inspectAnswers": false }
            }
            """);
    }

    public static void Write(string dir, string simulatorUrl, string authority, string audience, bool full, string? redis, string? otlpBase, string? httpVersion = null)
    {
        var config = Path.Combine(dir, "config");
        Directory.CreateDirectory(Path.Combine(config, "agencies"));
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        var limitStore = redis is null ? """{ "type": "embedded" }""" : $$"""{ "type": "redis", "redis": "{{redis}}" }""";
        var audit = otlpBase is null ? "{}" : $$"""{ "otlp": { "endpoint": "{{otlpBase}}", "protocol": "http/protobuf", "exportTraces": true, "exportMetrics": true } }""";
        File.WriteAllText(Path.Combine(config, "gateway.json"), $$"""
            {
              "forwarding": { "maxAttempts": 2, "upstreamTimeoutSeconds": 120 },
              "limitStore": {{limitStore}},
              "audit": {{audit}},
              "providers": { "sim": { "api": "openai", "baseUrl": "{{simulatorUrl}}"{{(httpVersion is null ? "" : $", \"httpVersion\": \"{httpVersion}\"")}} } },
              "models": { "gpt-4o-mini": { "ceiling": "UNCLASSIFIED", "deployments": [{ "provider": "sim" }],
                                           "pricing": { "inputPerMillion": 0.15, "outputPerMillion": 0.6 } } }
            }
            """);
        // gateway-full: every policy on, limits far above what a load test reaches so nothing is refused.
        var limits = full
            ? """
              "limits": {
                "perCaller": { "requestsPerMinute": 100000000, "tokensPerMinute": 2000000000, "concurrentRequests": 100000, "tokensPerDay": 2000000000 },
                "agency": { "requestsPerMinute": 1000000000, "tokensPerMinute": 2000000000, "costPerMonth": 100000000 },
                "defaultMaxOutputTokens": 256
              },
              """
            : "";
        var roleLimits = full ? """, "limits": { "requestsPerMinute": 100000000, "tokensPerMinute": 2000000000 }""" : "";
        File.WriteAllText(Path.Combine(config, "agencies", "perf.json"), $$"""
            {
              "name": "perf",
              "models": ["*"],
              "identity": { "providers": [ { "type": "oidc", "authority": "{{authority}}", "audiences": ["{{audience}}"], "requireHttpsMetadata": false } ] },
              "roles": { "user": { "models": ["*"]{{roleLimits}} } },
              {{limits}}
              "inspection": { "inspectAnswers": {{(full ? "true" : "false")}} }
            }
            """);
    }
}
