using System.Diagnostics;
using System.Text;
using AiGateway.Tests.Common;

namespace AiGateway.IntegrationTests.Infrastructure;

/// <summary>
/// The gateway as its own OS process (<c>dotnet AiGateway.dll</c> from the test's output folder) on a free loopback
/// port, for tests about several replicas or process lifetime. Disposing kills it.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private GatewayProcess(Process process, StringBuilder output, Uri baseAddress)
    {
        _process = process;
        _output = output;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
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

    /// <summary>Starts the gateway on <paramref name="configDirectory"/> and waits until /healthz/live answers (bounded).</summary>
    public static async Task<GatewayProcess> StartAsync(string configDirectory, string dataDirectory, string environment = "Production", params string[] extraArgs)
    {
        var port = FreePort.Get();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "AiGateway.dll"), "--urls", $"http://127.0.0.1:{port}", "--environment", environment,
                     "--Gateway:ConfigDirectory", configDirectory, "--Gateway:DataDirectory", dataDirectory, "--Logging:LogLevel:Default", "Warning", .. extraArgs])
        {
            start.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var gateway = new GatewayProcess(process, output, new Uri($"http://127.0.0.1:{port}/"));
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The gateway process exited with {process.ExitCode}: {gateway.Output}");
            }

            try
            {
                using var response = await probe.GetAsync(new Uri(gateway.BaseAddress, "healthz/live"));
                if (response.IsSuccessStatusCode)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // not answering yet
            }

            await Task.Delay(100);
        }

        await gateway.DisposeAsync();
        throw new TimeoutException($"The gateway process did not become live: {gateway.Output}");
    }

    public HttpClient CreateClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
