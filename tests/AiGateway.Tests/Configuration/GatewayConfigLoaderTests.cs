using AiGateway.Configuration;

namespace AiGateway.Tests.Configuration;

/// <summary>GatewayConfigLoader.Load on config files written to a temporary directory.</summary>
public sealed class GatewayConfigLoaderTests : IDisposable
{
    private const string Provider = """{ "type": "oidc", "authority": "https://login.example.test/alpha", "audiences": ["api://aigateway"] }""";

    private const string ValidGateway = """
        {
          "providers": { "sim": { "api": "openai", "baseUrl": "http://127.0.0.1:9/" } },
          "models": { "gpt-4o-mini": { "ceiling": "UNCLASSIFIED", "aliases": ["mini"], "deployments": [{ "provider": "sim" }] } }
        }
        """;

    private const string ValidAgency = $$"""
        { "name": "alpha", "models": ["*"], "identity": { "providers": [ {{Provider}} ] }, "roles": { "analyst": { "models": ["mini"] } } }
        """;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aigw-unit-" + Guid.NewGuid().ToString("N"));

    public GatewayConfigLoaderTests() => Directory.CreateDirectory(Path.Combine(_dir, "agencies"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string relativePath, string content) => File.WriteAllText(Path.Combine(_dir, relativePath), content);

    private ConfigValidationException LoadFails()
    {
        var ex = Assert.Throws<ConfigValidationException>(() => GatewayConfigLoader.Load(_dir, isProduction: true));
        Assert.NotEmpty(ex.Errors);
        foreach (var error in ex.Errors)
        {
            Assert.Contains(error.ToString(), ex.Message, StringComparison.Ordinal);
        }

        return ex;
    }

    private static List<(string File, string Path)> Where(ConfigValidationException ex) =>
        ex.Errors.Select(e => (System.IO.Path.GetFileName(e.File), e.Path)).ToList();

    [Fact]
    public void Valid_files_load_into_a_snapshot()
    {
        Write("gateway.json", ValidGateway);
        Write("agencies/alpha.json", ValidAgency);

        var snapshot = GatewayConfigLoader.Load(_dir, isProduction: true);

        var model = Assert.Single(snapshot.Models);
        Assert.Same(model, snapshot.ModelsByName["MINI"]);
        Assert.Equal("gpt-4o-mini", model.Deployments[0].UpstreamModel);
        Assert.True(snapshot.Agencies["alpha"].Roles["analyst"].PersonModels.Matches(model));
    }

    [Fact]
    public void Every_gateway_error_is_reported_at_once_with_its_json_path()
    {
        Write("gateway.json", """
            {
              "requestLimits": { "maxBodyBytes": 10 },
              "forwarding": { "maxAttempts": 0, "upstreamTimeoutSeconds": 0, "unhealthyPeriodSeconds": -1 },
              "providers": {
                "bad-api": { "api": "gemini", "baseUrl": "https://example.test" },
                "bad-url": { "api": "openai", "baseUrl": "ftp://example.test/?q=1" },
                "plain": { "api": "openai", "baseUrl": "http://example.test" },
                "az": { "api": "azure-openai", "baseUrl": "https://az.example.test" },
                "two-keys": { "api": "openai", "baseUrl": "https://x.example.test", "apiKey": { "env": "A", "file": "b" } },
                "no-file": { "api": "openai", "baseUrl": "https://y.example.test", "apiKey": { "file": "does-not-exist.key" } },
                "h3": { "api": "openai", "baseUrl": "https://z.example.test", "httpVersion": "3" }
              },
              "models": {
                "m1": { "ceiling": "VERY SECRET", "deployments": [] },
                "m2": { "ceiling": "CUI", "deployments": [{ "provider": "nobody" }, { "provider": "az" }] },
                "m3": { "ceiling": "CUI", "aliases": ["m2"], "deployments": [{ "provider": "plain" }] }
              }
            }
            """);
        Write("agencies/alpha.json", ValidAgency);

        var where = Where(LoadFails());

        Assert.Contains(("gateway.json", "$.requestLimits.maxBodyBytes"), where);
        Assert.Contains(("gateway.json", "$.forwarding.maxAttempts"), where);
        Assert.Contains(("gateway.json", "$.forwarding.upstreamTimeoutSeconds"), where);
        Assert.Contains(("gateway.json", "$.forwarding.unhealthyPeriodSeconds"), where);
        Assert.Contains(("gateway.json", "$.providers['bad-api'].api"), where);
        Assert.Contains(("gateway.json", "$.providers['bad-url'].baseUrl"), where);
        Assert.Contains(("gateway.json", "$.providers['plain'].baseUrl"), where);
        Assert.Contains(("gateway.json", "$.providers['az'].apiVersion"), where);
        Assert.Contains(("gateway.json", "$.providers['two-keys'].apiKey"), where);
        Assert.Contains(("gateway.json", "$.providers['no-file'].apiKey.file"), where);
        Assert.Contains(("gateway.json", "$.providers['h3'].httpVersion"), where);
        Assert.Contains(("gateway.json", "$.models['m1'].ceiling"), where);
        Assert.Contains(("gateway.json", "$.models['m1'].deployments"), where);
        Assert.Contains(("gateway.json", "$.models['m2'].deployments[0].provider"), where);
        Assert.Contains(("gateway.json", "$.models['m2'].deployments[1].deployment"), where);
        Assert.Contains(("gateway.json", "$.models['m3']"), where);
        // The agency's "mini" no longer exists: reported too, in the same run.
        Assert.Contains(("alpha.json", "$.roles['analyst'].models[0]"), where);
    }

    [Fact]
    public void Every_agency_error_in_every_file_is_reported_with_file_and_path()
    {
        Write("gateway.json", ValidGateway);
        Write("agencies/alpha.json", $$"""
            { "name": "alfa", "models": ["nope", ""], "identity": { "providers": [ {{Provider}} ] },
              "roles": { "analyst": { "models": ["gone"], "workloadModels": ["gpt-4o*", "missing"] } },
              "groups": { "g1": ["analyst", "ghost"] } }
            """);
        Write("agencies/bravo.json", """{ "name": "bravo", "models": [], "identity": { "providers": [] } }""");

        var where = Where(LoadFails());

        Assert.Contains(("alpha.json", "$.name"), where);
        Assert.Contains(("alpha.json", "$.models[0]"), where);
        Assert.Contains(("alpha.json", "$.models[1]"), where);
        Assert.Contains(("alpha.json", "$.roles['analyst'].models[0]"), where);
        Assert.Contains(("alpha.json", "$.roles['analyst'].workloadModels[1]"), where);
        Assert.DoesNotContain(("alpha.json", "$.roles['analyst'].workloadModels[0]"), where);
        Assert.Contains(("alpha.json", "$.groups['g1'][1]"), where);
        Assert.DoesNotContain(("alpha.json", "$.groups['g1'][0]"), where);
        Assert.Contains(("bravo.json", "$.models"), where);
    }

    [Fact]
    public void Json_syntax_errors_in_several_files_are_all_reported_with_their_position()
    {
        Write("gateway.json", "{ \"providers\": { \"sim\": { \"api\": \"openai\" \n \"baseUrl\": 1 } } }");
        Write("agencies/alpha.json", "{ \"name\": \"alpha\", ");

        var ex = LoadFails();

        Assert.Equal(["alpha.json", "gateway.json"], ex.Errors.Select(e => Path.GetFileName(e.File)).Order().ToArray());
        var gateway = ex.Errors.Single(e => e.File.EndsWith("gateway.json", StringComparison.Ordinal));
        Assert.Contains("line 2", gateway.Message, StringComparison.Ordinal);
        Assert.StartsWith("$.providers", gateway.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_property_is_an_error_naming_it()
    {
        Write("gateway.json", ValidGateway.Replace("\"providers\"", "\"forwardng\": {}, \"providers\"", StringComparison.Ordinal));
        Write("agencies/alpha.json", ValidAgency);

        var error = Assert.Single(LoadFails().Errors);

        Assert.Equal("gateway.json", Path.GetFileName(error.File));
        Assert.Contains("forwardng", error.Message + error.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_files_are_reported()
    {
        var where = Where(LoadFails());

        Assert.Contains(("gateway.json", "$"), where);
    }

    [Fact]
    public void A_gateway_without_agency_files_is_an_error()
    {
        Write("gateway.json", ValidGateway);

        var error = Assert.Single(LoadFails().Errors);

        Assert.Equal("$", error.Path);
        Assert.Contains("agency", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Provider_key_is_read_from_its_file_and_trimmed()
    {
        Write("provider.key", "  sk-test-123 \n");
        Write("gateway.json", ValidGateway.Replace("\"baseUrl\": \"http://127.0.0.1:9/\"", "\"baseUrl\": \"http://127.0.0.1:9/\", \"apiKey\": { \"file\": \"provider.key\" }", StringComparison.Ordinal));
        Write("agencies/alpha.json", ValidAgency);

        var snapshot = GatewayConfigLoader.Load(_dir, isProduction: true);

        Assert.Equal("sk-test-123", snapshot.Providers["sim"].ApiKey);
        Assert.DoesNotContain("sk-test-123", snapshot.Providers["sim"].ToString(), StringComparison.Ordinal);
    }
}
