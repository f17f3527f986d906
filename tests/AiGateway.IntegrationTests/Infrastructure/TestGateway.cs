using System.Net.Http.Headers;
using AiGateway.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.IntegrationTests.Infrastructure;

/// <summary>
/// The real gateway (GatewayApplication.Build, real Kestrel on a 127.0.0.1 port 0) over a temporary config
/// directory written by the test. Disposing stops it and deletes the directories.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private TestGateway(WebApplication app, Uri baseAddress, string root)
    {
        App = app;
        BaseAddress = baseAddress;
        Root = root;
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public string Root { get; }

    public string ConfigDirectory => Path.Combine(Root, "config");

    public string DataDirectory => Path.Combine(Root, "data");

    internal GatewayConfigStore ConfigStore => App.Services.GetRequiredService<GatewayConfigStore>();

    /// <summary>Writes gateway.json and agencies/*.json, then starts the gateway. Throws what start-up throws (e.g. ConfigValidationException).</summary>
    public static async Task<TestGateway> StartAsync(string gatewayJson, IReadOnlyDictionary<string, string> agencies, string environment = "Production", params string[] extraArgs)
    {
        var root = Path.Combine(Path.GetTempPath(), "aigw-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "config", "agencies"));
        await File.WriteAllTextAsync(Path.Combine(root, "config", "gateway.json"), gatewayJson);
        foreach (var (name, json) in agencies)
        {
            await File.WriteAllTextAsync(Path.Combine(root, "config", "agencies", name + ".json"), json);
        }

        WebApplication app;
        try
        {
            app = GatewayApplication.Build(
            [
                "--urls", "http://127.0.0.1:0",
                "--environment", environment,
                "--Gateway:ConfigDirectory", Path.Combine(root, "config"),
                "--Gateway:DataDirectory", Path.Combine(root, "data"),
                "--Gateway:Identity:MinimumKeyRefreshSeconds", "1",
                "--Logging:LogLevel:Default", "Warning",
                .. extraArgs,
            ]);
            await app.StartAsync();
        }
        catch
        {
            Directory.Delete(root, recursive: true);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestGateway(app, new Uri(address + "/"), root);
    }

    public HttpClient CreateClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>Replaces a config file (relative to the config directory) and waits until the store has reacted.</summary>
    public async Task<bool> ReplaceConfigFileAndWaitAsync(string relativePath, string content, TimeSpan timeout)
    {
        var store = ConfigStore;
        var before = store.Current.Version;
        var rejectedBefore = store.LastRejectedErrors;
        await File.WriteAllTextAsync(Path.Combine(ConfigDirectory, relativePath), content);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (store.Current.Version != before)
            {
                return true;
            }

            if (store.LastRejectedErrors is not null && !ReferenceEquals(store.LastRejectedErrors, rejectedBefore))
            {
                return false;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The gateway did not react to the configuration change.");
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
