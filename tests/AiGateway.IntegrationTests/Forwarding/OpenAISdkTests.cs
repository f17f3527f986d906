using System.ClientModel;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.Tests.Common;
using LlmSimulator;
using OpenAI;
using OpenAI.Chat;

namespace AiGateway.IntegrationTests.Forwarding;

public sealed class OpenAISdkTests
{
    [Fact]
    public async Task OpenAI_sdk_completes_a_chat_call_through_the_gateway()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var issuer = await TestOidcIssuer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(
            ConfigJson.Gateway(simulator.BaseAddress),
            new Dictionary<string, string> { ["alpha"] = ConfigJson.Agency("alpha", ConfigJson.OidcProvider(issuer.Issuer)) });
        var token = issuer.Token().Roles("analyst").Build();

        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(token), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseAddress, "v1") });
        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Say hello")]);

        Assert.Contains("simulated reply", completion.Content[0].Text, StringComparison.Ordinal);
        Assert.True(completion.Usage.OutputTokenCount > 0);
        Assert.Single(simulator.ReceivedRequests);
    }
}
