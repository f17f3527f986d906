using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AiGateway.Tests.Common;

namespace AiGateway.IntegrationTests.Infrastructure;

/// <summary>
/// A started gateway with its own OIDC issuer and one agency "alpha" trusting it, plus a client holding a
/// token for <c>roles</c>. Each test builds its own; disposing stops everything.
/// </summary>
public sealed class GatewayScenario : IAsyncDisposable
{
    private GatewayScenario(TestOidcIssuer issuer, TestGateway gateway, string token)
    {
        Issuer = issuer;
        Gateway = gateway;
        Token = token;
        Client = gateway.CreateClient(token);
    }

    public TestOidcIssuer Issuer { get; }

    public TestGateway Gateway { get; }

    public string Token { get; }

    public HttpClient Client { get; }

    /// <param name="gatewayJson">gateway.json content.</param>
    /// <param name="analystModels">JSON list items for the analyst role (must name models of <paramref name="gatewayJson"/>).</param>
    /// <param name="role">The role the client's token carries.</param>
    /// <param name="agencyExtra">Extra agency properties, starting with a comma (e.g. <c>, "inspection": { ... }</c>).</param>
    public static async Task<GatewayScenario> StartAsync(string gatewayJson, string analystModels = "\"*\"", string role = "analyst", string agencyExtra = "")
    {
        var issuer = await TestOidcIssuer.StartAsync();
        try
        {
            var gateway = await TestGateway.StartAsync(
                gatewayJson,
                new Dictionary<string, string> { ["alpha"] = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer), analystModels, agencyExtra) });
            return new GatewayScenario(issuer, gateway, issuer.Token().Roles(role).Build());
        }
        catch
        {
            await issuer.DisposeAsync();
            throw;
        }
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json, params (string Name, string Value)[] headers) =>
        Client.SendAsync(GatewayHttp.Post(path, json, headers));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Gateway.DisposeAsync();
        await Issuer.DisposeAsync();
    }
}

/// <summary>Request and response helpers for gateway tests.</summary>
public static class GatewayHttp
{
    public static HttpRequestMessage Post(string path, string json, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The <c>model</c> property of a recorded upstream body (null when absent).</summary>
    public static string? BodyModel(byte[] body) =>
        JsonDocument.Parse(body).RootElement.TryGetProperty("model", out var model) ? model.GetString() : null;

    /// <summary>Waits until <paramref name="condition"/> holds (state changed on another thread), failing after <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not become true in time.");
            await Task.Delay(20);
        }
    }
}

/// <summary>gateway.json fragments for provider and model shapes ConfigJson.Gateway does not cover.</summary>
public static class UpstreamJson
{
    public static string Gateway(string providers, string models, string forwarding = """{ "maxAttempts": 3, "upstreamTimeoutSeconds": 30, "unhealthyPeriodSeconds": 30 }""", long maxBodyBytes = 8388608) =>
        $$"""
        {
          "requestLimits": { "maxBodyBytes": {{maxBodyBytes}} },
          "forwarding": {{forwarding}},
          "providers": { {{providers}} },
          "models": { {{models}} }
        }
        """;

    public static string Provider(string name, string api, Uri baseUrl, string? keyFile = null, string? apiVersion = null, string? httpVersion = null) =>
        $$"""
        {{ConfigJson.Quote(name)}}: { "api": {{ConfigJson.Quote(api)}}, "baseUrl": {{ConfigJson.Quote(baseUrl.AbsoluteUri)}}{{(apiVersion is null ? "" : $", \"apiVersion\": {ConfigJson.Quote(apiVersion)}")}}{{(httpVersion is null ? "" : $", \"httpVersion\": {ConfigJson.Quote(httpVersion)}")}}{{(keyFile is null ? "" : $", \"apiKey\": {{ \"file\": {ConfigJson.Quote(keyFile)} }}")}} }
        """;

    /// <param name="deployments">JSON objects, e.g. <c>{ "provider": "a", "model": "up-a" }</c>.</param>
    public static string Model(string name, string deployments, string aliases = "") =>
        $$"""
        {{ConfigJson.Quote(name)}}: { "ceiling": "UNCLASSIFIED", "aliases": [{{aliases}}], "deployments": [ {{deployments}} ] }
        """;
}

/// <summary>A provider key in a temporary file (what a Kubernetes secret mount looks like); deleted on dispose.</summary>
public sealed class SecretFile : IDisposable
{
    public SecretFile(string secret)
    {
        Secret = secret;
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "aigw-secret-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(Path, secret + "\n");
    }

    public string Secret { get; }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
