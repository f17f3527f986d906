using System.Net;
using System.Text;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Identity;

/// <summary>SDKs of the Anthropic and Azure dialects send their key in x-api-key / api-key: a JWT there authenticates too.</summary>
public sealed class ApiKeyHeaderTokenTests
{
    [Theory]
    [InlineData("v1/messages", "x-api-key", "claude-3-5-haiku")]
    [InlineData("openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21", "api-key", null)]
    public async Task Jwt_in_the_dialects_key_header_authenticates_and_is_not_forwarded(string path, string header, string? model)
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(
            ConfigJson.Gateway(simulator.BaseAddress),
            new Dictionary<string, string> { ["alpha"] = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer)) });
        var token = issuer.Token().Roles("engineer").Build();
        using var client = gateway.CreateClient();
        var body = model is null
            ? """{"messages":[{"role":"user","content":"hi"}]}"""
            : $$"""{"model":"{{model}}","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(header, token);
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(simulator.ReceivedRequests);
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Non_jwt_value_in_x_api_key_is_refused()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(
            ConfigJson.Gateway(simulator.BaseAddress),
            new Dictionary<string, string> { ["alpha"] = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer)) });
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
        {
            Content = new StringContent("""{"model":"claude-3-5-haiku","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", "sk-ant-a-provider-key");
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(simulator.ReceivedRequests);
    }
}
