using AiGateway.Configuration;
using AiGateway.Identity;

namespace AiGateway.Tests.Identity;

/// <summary>
/// A validated snapshot loaded from config files written to a temp directory (the file shapes are the contract,
/// and they keep these tests independent of the policy classes' constructors).
/// </summary>
internal static class PolicyFixture
{
    public const string AlphaIssuer = "https://login.example.test/alpha";
    public const string BravoIssuer = "https://login.example.test/bravo";
    public const string EngineersGroup = "0b7f5a34-2f7c-4f0e-9a1c-3d8e6f5b4a21";

    public const string AlphaAgency = $$"""
        {
          "name": "alpha",
          "models": ["gpt-4o-mini", "claude-*", "secure-llm"],
          "identity": { "providers": [ { "type": "oidc", "authority": "{{AlphaIssuer}}", "audiences": ["api://aigateway"] } ] },
          "roles": {
            "analyst": { "models": ["gpt-4o-mini"] },
            "engineer": { "models": ["*"] },
            "agent": { "models": ["gpt-4o-mini", "secure-llm"], "workloadModels": ["gpt-4o-mini"] },
            "aliased": { "models": ["gpt-4o-mini-2024-07-18"] }
          },
          "groups": { "{{EngineersGroup}}": ["engineer"] }
        }
        """;

    public const string BravoAgency = $$"""
        {
          "name": "bravo",
          "models": ["gpt-4o-mini"],
          "identity": { "providers": [ { "type": "oidc", "authority": "{{BravoIssuer}}", "audiences": ["api://aigateway"], "claims": { "subject": "employee_id", "roles": "app_roles", "groups": "teams" } } ] },
          "roles": { "engineer": { "models": ["*"] } },
          "groups": { "team-1": ["engineer"] }
        }
        """;

    public const string GatewayJson = """
        {
          "providers": {
            "sim": { "api": "openai", "baseUrl": "http://127.0.0.1:9/" },
            "sim-anthropic": { "api": "anthropic", "baseUrl": "http://127.0.0.1:9/" }
          },
          "models": {
            "gpt-4o-mini": { "ceiling": "UNCLASSIFIED", "aliases": ["gpt-4o-mini-2024-07-18"], "deployments": [{ "provider": "sim" }] },
            "claude-3-5-haiku": { "ceiling": "UNCLASSIFIED", "deployments": [{ "provider": "sim-anthropic" }] },
            "secure-llm": { "ceiling": "SECRET", "deployments": [{ "provider": "sim" }] }
          }
        }
        """;

    private static readonly Lazy<GatewaySnapshot> s_snapshot = new(() => Load(("alpha", AlphaAgency), ("bravo", BravoAgency)));

    public static GatewaySnapshot Snapshot => s_snapshot.Value;

    public static IssuerDirectory Issuers => new(Snapshot);

    public static GatewaySnapshot Load(params (string Name, string Json)[] agencies)
    {
        var root = Path.Combine(Path.GetTempPath(), "aigw-unit-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "agencies"));
            File.WriteAllText(Path.Combine(root, "gateway.json"), GatewayJson);
            foreach (var (name, json) in agencies)
            {
                File.WriteAllText(Path.Combine(root, "agencies", name + ".json"), json);
            }

            return GatewayConfigLoader.Load(root, isProduction: true);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
