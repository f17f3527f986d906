namespace AiGateway.Health;

/// <summary>
/// <c>AiGateway probe [url]</c>: exits 0 when the URL answers 200 within 3 s, else 1. The container
/// HEALTHCHECK for plain Docker (chiseled images have no shell or curl); Kubernetes uses httpGet probes.
/// Only loopback URLs are accepted so the command cannot be turned into a request to elsewhere.
/// </summary>
internal static class ProbeCommand
{
    public const string DefaultUrl = "http://127.0.0.1:8080/healthz/live";

    public static async Task<int> RunAsync(string[] args, TextWriter error)
    {
        var url = args.Length > 0 ? args[0] : DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !uri.IsLoopback || uri.Scheme != Uri.UriSchemeHttp)
        {
            await error.WriteLineAsync("usage: probe [http://127.0.0.1:<port>/healthz/live]");
            return 2;
        }

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(uri);
            return response.StatusCode == System.Net.HttpStatusCode.OK ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync("probe failed: " + ex.Message);
            return 1;
        }
    }
}
