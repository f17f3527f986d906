using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using AiGateway.IntegrationTests.Audit;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Deployment;

/// <summary>
/// SIGTERM to a real gateway process (<c>dotnet AiGateway.dll</c>) while streams are live: the listener closes at
/// once, the streams finish, the audit journal holds every request and verifies, and the process exits 0.
/// </summary>
[Collection(Faults.LoadCollection.Name)]
public sealed class GracefulShutdownTests
{
    // What the kubelet sends: `kill -TERM <pid>`.
    private static async Task<int> SendSigtermAsync(int pid)
    {
        using var kill = Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        return kill.ExitCode;
    }

    [Fact]
    public async Task Sigterm_drains_live_streams_refuses_new_connections_flushes_audit_and_exits_0()
    {
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var simulator = await SimulatorServer.StartAsync();
        var root = Path.Combine(Path.GetTempPath(), "aigw-drain-" + Guid.NewGuid().ToString("N"));
        var config = Path.Combine(root, "config");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(Path.Combine(config, "agencies"));
        await File.WriteAllTextAsync(Path.Combine(config, "gateway.json"), ConfigJson.Gateway(simulator.BaseAddress));
        await File.WriteAllTextAsync(Path.Combine(config, "agencies", "alpha.json"), ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer), "\"*\""));
        var token = issuer.Token().Roles("engineer").Build();

        await using var gateway = await GatewayChildProcess.StartAsync(config, data, "--Gateway:DrainSeconds", "30");
        try
        {
            // Streams of 60 chunks 100 ms apart: about 6 s each, so they are mid-flight when SIGTERM arrives even on a busy machine.
            const int Streams = 4;
            const int Chunks = 60;
            using var client = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
            var readers = new List<Task<string>>();
            var firstChunks = new List<Task>();
            for (var i = 0; i < Streams; i++)
            {
                var first = new TaskCompletionSource();
                firstChunks.Add(first.Task);
                readers.Add(ReadStreamAsync(client, token, Chunks, "drain-" + i, first));
            }

            await Task.WhenAll(firstChunks).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.All(readers, r => Assert.False(r.IsCompleted));

            Assert.Equal(0, await SendSigtermAsync(gateway.ProcessId));

            // New connections are refused while the process is still draining the streams.
            var refused = false;
            for (var attempt = 0; attempt < 600 && !gateway.HasExited; attempt++)
            {
                if (await IsRefusedAsync(gateway.Port))
                {
                    refused = gateway.HasExited is false;
                    break;
                }

                await Task.Delay(10);
            }

            Assert.True(refused, "the listener still accepted connections after SIGTERM (or the process was already gone)");

            var bodies = await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));
            foreach (var body in bodies)
            {
                Assert.EndsWith("data: [DONE]", body.TrimEnd(), StringComparison.Ordinal);
                Assert.Contains("\"finish_reason\":\"stop\"", body, StringComparison.Ordinal);
            }

            Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));

            var events = AuditScenario.ReadJournalEvents(Path.Combine(data, "audit"));
            Assert.Equal(Enumerable.Range(0, Streams).Select(i => "drain-" + i).Order(), events.Select(AuditScenario.UserAgentOf).Order());
            Assert.All(events, e => Assert.Equal(200, e.GetProperty("http_response").GetProperty("code").GetInt32()));

            // The sealed journal verifies with the generated key (hash chain + checkpoint signatures).
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            Assert.True(AiGateway.Audit.AuditCommand.Run(["verify", Path.Combine(data, "audit")], stdout, stderr) == 0, stdout + "\n" + stderr);
        }
        catch
        {
            Console.Error.WriteLine(gateway.Output);
            throw;
        }
        finally
        {
            await gateway.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<string> ReadStreamAsync(HttpClient client, string token, int chunks, string userAgent, TaskCompletionSource firstChunk)
    {
        var body = $$$"""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Tell me a long story"}],"simulator":{"chunks":{{{chunks}}},"chunk_delay_ms":100}}""";
        using var request = GatewayHttp.Post("v1/chat/completions", body);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.UserAgent.ParseAdd(userAgent);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var text = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
            firstChunk.TrySetResult();
        }

        firstChunk.TrySetResult();
        return text.ToString();
    }

    private static async Task<bool> IsRefusedAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }
}

/// <summary>The gateway as its own OS process on a free loopback port; disposing kills it if it is still running.</summary>
internal sealed class GatewayChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayChildProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<GatewayChildProcess> StartAsync(string configDirectory, string dataDirectory, params string[] extraArgs)
    {
        var port = FreePort.Get();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "AiGateway.dll"), "--urls", $"http://127.0.0.1:{port}", "--environment", "Production",
                     "--Gateway:ConfigDirectory", configDirectory, "--Gateway:DataDirectory", dataDirectory, "--Logging:LogLevel:Default", "Warning", .. extraArgs])
        {
            start.ArgumentList.Add(arg);
        }

        var gateway = new GatewayChildProcess(Process.Start(start)!, port);
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (gateway.HasExited)
            {
                throw new InvalidOperationException($"The gateway exited with {gateway._process.ExitCode}: {gateway.Output}");
            }

            try
            {
                using var response = await probe.GetAsync(new Uri(gateway.BaseAddress, "healthz/ready"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return gateway;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        await gateway.DisposeAsync();
        throw new TimeoutException("The gateway did not become ready: " + gateway.Output);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
