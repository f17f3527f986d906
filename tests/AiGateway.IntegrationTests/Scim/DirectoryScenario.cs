using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Scim;

/// <summary>
/// A simulator, an OIDC issuer, optionally a real redis-server, and one or more gateways whose agency "alpha" has SCIM
/// (credential in a secret file), a directory mode and the group "AI Engineers" → engineer. Disposing stops everything.
/// </summary>
public sealed class DirectoryScenario : IAsyncDisposable
{
    public const string ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

    private DirectoryScenario(SimulatorServer simulator, TestOidcIssuer issuer, RedisServer? redis, SecretFile secret)
    {
        Simulator = simulator;
        Issuer = issuer;
        Redis = redis;
        Secret = secret;
    }

    public SimulatorServer Simulator { get; }

    public TestOidcIssuer Issuer { get; }

    public RedisServer? Redis { get; }

    public SecretFile Secret { get; }

    public List<TestGateway> Gateways { get; } = [];

    public TestGateway Gateway => Gateways[0];

    public string Mode { get; private set; } = "directory-optional";

    public string AgencyExtra { get; private set; } = string.Empty;

    public static async Task<DirectoryScenario> StartAsync(string mode = "directory-optional", int replicas = 1, bool redis = false, string agencyExtra = "", string? dataDirectory = null)
    {
        var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { RecordRequests = false });
        var issuer = await TestOidcIssuer.StartAsync();
        var server = redis ? await RedisServer.StartAsync() : null;
        var scenario = new DirectoryScenario(simulator, issuer, server, new SecretFile("scim-" + Guid.NewGuid().ToString("N"))) { Mode = mode, AgencyExtra = agencyExtra };
        try
        {
            for (var i = 0; i < replicas; i++)
            {
                scenario.Gateways.Add(await scenario.StartGatewayAsync(dataDirectory));
            }
        }
        catch
        {
            await scenario.DisposeAsync();
            throw;
        }

        return scenario;
    }

    public string GatewayJson => ConfigJson.Gateway(Simulator.BaseAddress, extraTopLevel: Redis is null
        ? string.Empty
        : $$"""
           "limitStore": { "type": "redis", "redis": {{ConfigJson.Quote(Redis.ConnectionString)}}, "timeoutMilliseconds": 1000, "breakSeconds": 1 },
          """);

    public string AgencyJson => ConfigJson.Agency("alpha", ConfigJson.OidcProvider(Issuer.Issuer), extra: $$"""
        ,
          "scim": { "token": { "file": {{ConfigJson.Quote(Secret.Path)}} } },
          "directory": { "mode": {{ConfigJson.Quote(Mode)}}, "groupRoles": { "AI Engineers": ["engineer"] } },
          "adminRoles": ["engineer"]{{AgencyExtra}}
        """);

    /// <summary>Starts another gateway on the same config (and, when given, the same data directory).</summary>
    public async Task<TestGateway> StartGatewayAsync(string? dataDirectory = null)
    {
        string[] extra = dataDirectory is null ? [] : ["--Gateway:DataDirectory", dataDirectory];
        return await TestGateway.StartAsync(GatewayJson, new Dictionary<string, string> { ["alpha"] = AgencyJson }, "Production", extra);
    }

    public HttpClient Scim(TestGateway? gateway = null, string? secret = null)
    {
        var client = new HttpClient { BaseAddress = new Uri((gateway ?? Gateway).BaseAddress, "scim/v2/alpha/"), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret ?? Secret.Secret);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in Gateways)
        {
            await gateway.DisposeAsync();
        }

        await Simulator.DisposeAsync();
        await Issuer.DisposeAsync();
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        Secret.Dispose();
    }
}

/// <summary>SCIM calls and assertions.</summary>
public static class ScimHttp
{
    public static async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(HttpClient client, HttpMethod method, string path, string? json = null, (string Name, string Value)[]? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/scim+json");
        }

        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response, body);
    }

    public static Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(HttpClient client, string path, string json) => SendAsync(client, HttpMethod.Post, path, json);

    public static Task<(HttpResponseMessage Response, JsonElement Body)> PatchAsync(HttpClient client, string path, string operations) =>
        SendAsync(client, HttpMethod.Patch, path, $$"""{ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": {{operations}} }""");

    public static Task<(HttpResponseMessage Response, JsonElement Body)> GetAsync(HttpClient client, string path) => SendAsync(client, HttpMethod.Get, path);

    /// <summary>Creates a user (asserting 201) and returns its id.</summary>
    public static async Task<string> CreateUserAsync(HttpClient client, string userName, string? externalId = null, bool active = true)
    {
        var (response, body) = await PostAsync(client, "Users", $$"""
            {
              "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
              "userName": {{ConfigJson.Quote(userName)}},
              {{(externalId is null ? "" : $"\"externalId\": {ConfigJson.Quote(externalId)},")}}
              "active": {{(active ? "true" : "false")}},
              "name": { "givenName": "Test", "familyName": "User" }
            }
            """);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"create user answered {(int)response.StatusCode}: {body}");
        return body.GetProperty("id").GetString()!;
    }

    public static async Task<string> CreateGroupAsync(HttpClient client, string displayName, params string[] memberIds)
    {
        var members = string.Join(", ", memberIds.Select(id => $$"""{ "value": {{ConfigJson.Quote(id)}} }"""));
        var (response, body) = await PostAsync(client, "Groups", $$"""
            { "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": {{ConfigJson.Quote(displayName)}}, "members": [{{members}}] }
            """);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"create group answered {(int)response.StatusCode}: {body}");
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>Asserts a SCIM error body: the Error schema, <c>status</c> as a string equal to the HTTP status, and the scimType.</summary>
    public static void AssertError(HttpResponseMessage response, JsonElement body, int status, string? scimType)
    {
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/scim+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(DirectoryScenario.ErrorSchema, body.GetProperty("schemas")[0].GetString());
        Assert.Equal(JsonValueKind.String, body.GetProperty("status").ValueKind);
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), body.GetProperty("status").GetString());
        if (scimType is null)
        {
            Assert.False(body.TryGetProperty("scimType", out _), body.ToString());
        }
        else
        {
            Assert.Equal(scimType, body.GetProperty("scimType").GetString());
        }
    }
}
