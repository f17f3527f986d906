using System.Net;
using AiGateway.Configuration;
using AiGateway.Identity;
using AiGateway.IntegrationTests.Infrastructure;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Identity;

public sealed class DevIssuerTests
{
    private const string DevProvider = """{ "type": "dev" }""";

    [Fact]
    public async Task Token_command_mints_a_token_the_development_gateway_accepts()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var gateway = await StartDevAsync(simulator, "Development");

        var (exit, stdout, stderr) = RunTokenCommand(gateway, "Development", "--agency", "demo", "--role", "analyst");

        Assert.True(exit == 0, stderr);
        var token = SingleJwtLine(stdout);
        using var ok = await GatewayCalls.ChatAsync(gateway, token, "gpt-4o-mini");
        using var refused = await GatewayCalls.ChatAsync(gateway, token, "secure-llm");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(["gpt-4o-mini"], await GatewayCalls.ListModelIdsAsync(gateway, token));
    }

    [Fact]
    public async Task Token_command_engineer_sees_all_models_and_workload_tokens_work()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var gateway = await StartDevAsync(simulator, "Development");

        var (exit, stdout, stderr) = RunTokenCommand(gateway, "Development", "--agency", "demo", "--role", "engineer", "--subject", "svc-1", "--workload");

        Assert.True(exit == 0, stderr);
        var token = SingleJwtLine(stdout);
        Assert.Equal(["gpt-4o-mini", "claude-3-5-haiku", "secure-llm"], await GatewayCalls.ListModelIdsAsync(gateway, token));
        using var ok = await GatewayCalls.ChatAsync(gateway, token, "secure-llm");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Token_command_refuses_in_Production_and_prints_nothing_on_stdout()
    {
        // A Development gateway only provides the config directory; the command must refuse on its own.
        await using var simulator = await SimulatorServer.StartAsync();
        await using var gateway = await StartDevAsync(simulator, "Development");

        var (exit, stdout, stderr) = RunTokenCommand(gateway, "Production", "--agency", "demo", "--role", "analyst");

        Assert.NotEqual(0, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("Production", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dev_token_is_not_accepted_by_another_agency()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(
            ConfigJson.Gateway(simulator.BaseAddress),
            new Dictionary<string, string>
            {
                ["demo"] = ConfigJson.Agency("demo", DevProvider).Replace("\"models\": [\"*\"],", "\"models\": [\"gpt-4o-mini\"],", StringComparison.Ordinal),
                ["other"] = ConfigJson.Agency("other", DevProvider),
            },
            environment: "Development");

        var (exit, stdout, stderr) = RunTokenCommand(gateway, "Development", "--agency", "demo", "--role", "engineer");
        Assert.True(exit == 0, stderr);

        // demo's engineer may use only what demo allows, even though 'other' allows everything to its engineers.
        using var response = await GatewayCalls.ChatAsync(gateway, SingleJwtLine(stdout), "secure-llm");
        Assert.True(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"got {(int)response.StatusCode}");
        Assert.Empty(simulator.ReceivedRequests);
    }

    [Fact]
    public async Task Dev_provider_in_Production_fails_start_up_naming_file_and_path()
    {
        await using var simulator = await SimulatorServer.StartAsync();

        var ex = await Assert.ThrowsAsync<ConfigValidationException>(() => StartDevAsync(simulator, "Production"));

        Assert.Contains("demo.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("$.identity.providers[0].type", ex.Message, StringComparison.Ordinal);
    }

    private static Task<TestGateway> StartDevAsync(SimulatorServer simulator, string environment) =>
        TestGateway.StartAsync(
            ConfigJson.Gateway(simulator.BaseAddress),
            new Dictionary<string, string> { ["demo"] = ConfigJson.Agency("demo", DevProvider) },
            environment: environment);

    private static (int Exit, string Stdout, string Stderr) RunTokenCommand(TestGateway gateway, string environment, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = TokenCommand.Run(
            [.. args, "--environment", environment, "--Gateway:ConfigDirectory", gateway.ConfigDirectory, "--Gateway:DataDirectory", gateway.DataDirectory],
            stdout,
            stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static string SingleJwtLine(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var token = Assert.Single(lines).TrimEnd('\r');
        Assert.Matches("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$", token);
        return token;
    }
}
