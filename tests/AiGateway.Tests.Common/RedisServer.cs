using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AiGateway.Tests.Common;

/// <summary>
/// A real <c>redis-server</c> process on a free loopback port, with no persistence and its own temporary
/// working directory. Kill it to simulate a crash; restart it on the same port (empty, since nothing is saved).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const string InstallHint = "redis-server was not found on PATH. Install it with `apt-get install -y redis-server` (CI installs it).";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    private readonly string _executable;
    private readonly string _workingDirectory;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private RedisServer(string executable, string workingDirectory, int port)
    {
        _executable = executable;
        _workingDirectory = workingDirectory;
        Port = port;
    }

    /// <summary>The loopback port the server listens on; stays the same across <see cref="RestartAsync"/>.</summary>
    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:PORT</c>, a StackExchange.Redis configuration string.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>The temporary <c>--dir</c> of the server; deleted on dispose.</summary>
    public string WorkingDirectory => _workingDirectory;

    /// <summary>True while the process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts <c>redis-server</c> on a free port and waits until it answers PING.</summary>
    /// <exception cref="InvalidOperationException"><c>redis-server</c> is not installed, or did not become ready.</exception>
    public static async Task<RedisServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var executable = FindExecutable() ?? throw new InvalidOperationException(InstallHint);
        var directory = Directory.CreateTempSubdirectory("aigateway-redis-").FullName;
        var server = new RedisServer(executable, directory, FreePort.Get());
        try
        {
            // Another process can take the port between FreePort.Get and redis binding it: retry on a new port.
            for (var attempt = 1; ; attempt++)
            {
                if (await server.TryStartProcessAsync(cancellationToken).ConfigureAwait(false))
                {
                    return server;
                }

                if (attempt == 3)
                {
                    throw new InvalidOperationException($"redis-server did not start on 127.0.0.1:{server.Port}. Output:{Environment.NewLine}{server.Output}");
                }

                server.Port = FreePort.Get();
            }
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Kills the process with SIGKILL (a crash: no shutdown, connections reset) and waits for it to exit.</summary>
    public async Task KillAsync()
    {
        var process = _process;
        if (process is null || process.HasExited)
        {
            return;
        }

        process.Kill(entireProcessTree: false); // SIGKILL on Unix
        await process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Kills the server if it is running and starts a new, empty one on the same port; waits until it answers PING.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await KillAsync().ConfigureAwait(false);

        // The port is ours until someone else takes it; retry briefly in case the kernel is still releasing it.
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!await TryStartProcessAsync(cancellationToken).ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"redis-server did not restart on 127.0.0.1:{Port}. Output:{Environment.NewLine}{Output}");
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends <c>PING</c> over a fresh connection; true when the reply is <c>+PONG</c>. Never throws for a dead server.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            var reply = new byte[7];
            var read = 0;
            while (read < reply.Length)
            {
                var n = await stream.ReadAsync(reply.AsMemory(read), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return reply.AsSpan().SequenceEqual("+PONG\r\n"u8);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return false;
        }
    }

    /// <summary>What the server wrote to stdout/stderr, for diagnosing failures.</summary>
    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    /// <summary>Kills the process and deletes the working directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _process?.Dispose();
        _process = null;
        try
        {
            Directory.Delete(_workingDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
    }

    private async Task<bool> TryStartProcessAsync(CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(_executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _workingDirectory,
        };
        foreach (var argument in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", string.Empty,
            "--appendonly", "no",
            "--dir", _workingDirectory,
            "--daemonize", "no",
        })
        {
            startInfo.ArgumentList.Add(argument);
        }

        _process?.Dispose();
        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => AppendOutput(e.Data);
        process.ErrorDataReceived += (_, e) => AppendOutput(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                return false; // typically "Address already in use"
            }

            if (await PingAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"redis-server on 127.0.0.1:{Port} did not answer PING within {StartTimeout.TotalSeconds}s. Output:{Environment.NewLine}{Output}");
    }

    private void AppendOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
