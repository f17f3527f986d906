using System.Text.Json;

namespace AiGateway.IntegrationTests.Infrastructure;

/// <summary>Small builders for the JSON config files tests write (the file shapes are the product's contract).</summary>
public static class ConfigJson
{
    public static string Quote(string value) => JsonSerializer.Serialize(value);

    /// <summary>An OIDC provider entry trusting a test issuer over loopback http.</summary>
    public static string OidcProvider(string issuer, string audience = "api://aigateway") =>
        $$"""{ "type": "oidc", "authority": {{Quote(issuer)}}, "audiences": [{{Quote(audience)}}], "requireHttpsMetadata": false }""";

    /// <summary>An agency trusting <paramref name="providersJson"/>, with roles analyst (first model only) and engineer (all).</summary>
    public static string Agency(string name, string providersJson, string analystModels = "\"gpt-4o-mini\"", string extra = "") =>
        $$"""
        {
          "name": {{Quote(name)}},
          "models": ["*"],
          "identity": { "providers": [ {{providersJson}} ] },
          "roles": {
            "analyst": { "models": [{{analystModels}}] },
            "engineer": { "models": ["*"] }
          }{{extra}}
        }
        """;

    /// <summary>gateway.json with one OpenAI-compatible model per (name, upstreams) plus an Anthropic model, all on simulators.</summary>
    public static string Gateway(Uri openAiUpstream, Uri? anthropicUpstream = null, string extraModels = "", string extraProviders = "", string forwarding = """{ "maxAttempts": 3, "upstreamTimeoutSeconds": 30, "unhealthyPeriodSeconds": 30 }""", long maxBodyBytes = 8388608, string extraTopLevel = "") =>
        $$"""
        {
          "requestLimits": { "maxBodyBytes": {{maxBodyBytes}} },
          "forwarding": {{forwarding}},{{extraTopLevel}}
          "providers": {
            "sim": { "api": "openai", "baseUrl": {{Quote(openAiUpstream.AbsoluteUri)}} },
            "sim-anthropic": { "api": "anthropic", "baseUrl": {{Quote((anthropicUpstream ?? openAiUpstream).AbsoluteUri)}} }{{extraProviders}}
          },
          "models": {
            "gpt-4o-mini": { "ceiling": "UNCLASSIFIED", "aliases": ["gpt-4o-mini-2024-07-18"], "deployments": [{ "provider": "sim" }] },
            "claude-3-5-haiku": { "ceiling": "UNCLASSIFIED", "deployments": [{ "provider": "sim-anthropic", "model": "claude-3-5-haiku-20241022" }] },
            "secure-llm": { "ceiling": "SECRET", "deployments": [{ "provider": "sim" }] }{{extraModels}}
          }
        }
        """;
}
