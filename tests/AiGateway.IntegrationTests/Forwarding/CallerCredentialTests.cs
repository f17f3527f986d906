using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Forwarding;

/// <summary>Nothing the caller authenticates with ever reaches an upstream; only the provider's own key does.</summary>
public sealed class CallerCredentialTests
{
    private static readonly (string Name, string Value)[] s_callerCredentials =
    [
        ("api-key", "client-key"),
        ("x-api-key", "client-key2"),
        ("Cookie", "session=client-cookie"),
        ("OpenAI-Organization", "org-client"),
        ("OpenAI-Project", "proj-client"),
        ("Proxy-Authorization", "Basic Y2xpZW50OnNlY3JldA=="),
        ("X-Forwarded-For", "10.1.2.3"),
    ];

    public static TheoryData<string, string, string, string> Dialects => new()
    {
        // provider api, client path, body, header carrying the provider key upstream
        { "openai", "v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"hi"}]}""", "Authorization" },
        { "azure-openai", "v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"hi"}]}""", "api-key" },
        { "anthropic", "v1/messages", """{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", "x-api-key" },
    };

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task Caller_credentials_never_reach_the_upstream_and_the_provider_key_does(string api, string path, string body, string keyHeader)
    {
        using var key = new SecretFile("provider-key-" + api);
        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { RequiredApiKey = key.Secret });
        await using var scenario = await GatewayScenario.StartAsync(UpstreamJson.Gateway(
            UpstreamJson.Provider("p", api, simulator.BaseAddress, key.Path, api == "azure-openai" ? "2024-10-21" : null),
            UpstreamJson.Model("m", """{ "provider": "p", "deployment": "dep" }""")));
        using var request = GatewayHttp.Post(path, body, [.. s_callerCredentials, ("anthropic-version", "2023-06-01")]);

        using var response = await scenario.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        foreach (var (name, value) in s_callerCredentials)
        {
            Assert.False(received.Headers.TryGetValue(name, out var sent) && sent.Contains(value, StringComparison.Ordinal), $"{name} reached the upstream.");
        }

        Assert.False(received.Headers.ContainsKey("Cookie"));
        Assert.False(received.Headers.ContainsKey("Proxy-Authorization"));
        Assert.False(received.Headers.ContainsKey("OpenAI-Organization"));
        foreach (var (name, value) in received.Headers)
        {
            Assert.DoesNotContain(scenario.Token, value, StringComparison.Ordinal);
            Assert.DoesNotContain("client-key", value, StringComparison.Ordinal);
        }

        var expectedKey = keyHeader == "Authorization" ? "Bearer " + key.Secret : key.Secret;
        Assert.Equal(expectedKey, received.Headers[keyHeader]);
    }
}
