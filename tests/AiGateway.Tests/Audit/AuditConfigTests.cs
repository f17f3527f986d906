using AiGateway.Audit;
using AiGateway.Configuration;

namespace AiGateway.Tests.Audit;

public sealed class AuditConfigTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aigw-auditcfg-" + Guid.NewGuid().ToString("N"));

    public AuditConfigTests() => Directory.CreateDirectory(Path.Combine(_dir, "agencies"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string audit, string agencyAudit)
    {
        File.WriteAllText(Path.Combine(_dir, "gateway.json"), $$"""
            {
              "audit": {{audit}},
              "providers": { "sim": { "api": "openai", "baseUrl": "http://127.0.0.1:9/" } },
              "models": { "m": { "ceiling": "UNCLASSIFIED", "deployments": [{ "provider": "sim" }] } }
            }
            """);
        File.WriteAllText(Path.Combine(_dir, "agencies", "alpha.json"), $$"""
            { "name": "alpha", "models": ["*"], "identity": { "providers": [{ "type": "dev" }] }, "roles": { "r": { "models": ["*"] } }, "audit": {{agencyAudit}} }
            """);
    }

    [Fact]
    public void Every_invalid_audit_setting_is_reported_with_file_and_path()
    {
        Write(
            """{ "flushWindowMilliseconds": -1, "rotationBytes": 10, "signingKey": { "env": "AIGW_TEST_UNSET_AUDIT_KEY" }, "otlp": { "endpoint": "not a url", "protocol": "udp" } }""",
            """{ "onFailure": "sometimes" }""");

        var ex = Assert.Throws<ConfigValidationException>(() => GatewayConfigLoader.Load(_dir, isProduction: false));

        var gateway = Path.Combine(_dir, "gateway.json");
        var agency = Path.Combine(_dir, "agencies", "alpha.json");
        Assert.Contains(ex.Errors, e => e.File == gateway && e.Path == "$.audit.flushWindowMilliseconds");
        Assert.Contains(ex.Errors, e => e.File == gateway && e.Path == "$.audit.rotationBytes");
        Assert.Contains(ex.Errors, e => e.File == gateway && e.Path == "$.audit.signingKey.env");
        Assert.Contains(ex.Errors, e => e.File == gateway && e.Path == "$.audit.otlp.endpoint");
        Assert.Contains(ex.Errors, e => e.File == gateway && e.Path == "$.audit.otlp.protocol");
        Assert.Contains(ex.Errors, e => e.File == agency && e.Path == "$.audit.onFailure");
    }

    [Fact]
    public void Valid_audit_settings_are_in_the_snapshot_and_fail_closed_is_the_default()
    {
        Write("""{ "flushWindowMilliseconds": 20, "otlp": { "endpoint": "http://collector:4318" } }""", "{}");

        var snapshot = GatewayConfigLoader.Load(_dir, isProduction: false);

        Assert.Equal(TimeSpan.FromMilliseconds(20), snapshot.Audit.FlushWindow);
        Assert.Equal(new Uri("http://collector:4318/v1/logs"), snapshot.Audit.Otlp!.SignalEndpoint("logs"));
        Assert.Equal(AuditFailurePolicy.FailClosed, snapshot.Agencies["alpha"].AuditOnFailure);
    }
}
