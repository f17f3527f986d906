using AiGateway.Entitlements;
using AiGateway.Model;
using AiGateway.Tests.Identity;

namespace AiGateway.Tests.Entitlements;

public sealed class EntitlementTests
{
    [Theory]
    [InlineData("analyst", "gpt-4o-mini", "analyst")]
    [InlineData("analyst", "secure-llm", null)]
    [InlineData("analyst", "claude-3-5-haiku", null)]
    [InlineData("engineer", "secure-llm", "engineer")]
    [InlineData("engineer", "claude-3-5-haiku", "engineer")]
    [InlineData("agent", "secure-llm", "agent")]
    [InlineData("aliased", "gpt-4o-mini", "aliased")]
    [InlineData("undeclared-role", "gpt-4o-mini", null)]
    public void Person_is_granted_what_a_role_lists(string role, string model, string? expected)
    {
        Assert.Equal(expected, Grant(Caller("alpha", CallerKind.Person, role), model));
    }

    [Theory]
    [InlineData("agent", "gpt-4o-mini", "agent")]
    [InlineData("agent", "secure-llm", null)]
    [InlineData("engineer", "secure-llm", "engineer")]
    public void Workload_is_granted_the_roles_workloadModels_defaulting_to_models(string role, string model, string? expected)
    {
        Assert.Equal(expected, Grant(Caller("alpha", CallerKind.Workload, role), model));
    }

    [Fact]
    public void No_role_is_denied()
    {
        Assert.Null(Grant(Caller("alpha", CallerKind.Person), "gpt-4o-mini"));
    }

    [Fact]
    public void Role_cannot_grant_a_model_the_agency_does_not_allow()
    {
        // bravo allows only gpt-4o-mini, although its engineer role lists '*'.
        Assert.Equal("engineer", Grant(Caller("bravo", CallerKind.Person, "engineer"), "gpt-4o-mini"));
        Assert.Null(Grant(Caller("bravo", CallerKind.Person, "engineer"), "secure-llm"));
    }

    [Fact]
    public void Any_granting_role_is_enough()
    {
        Assert.Equal("engineer", Grant(Caller("alpha", CallerKind.Person, "analyst", "engineer"), "secure-llm"));
    }

    private static Caller Caller(string agency, CallerKind kind, params string[] roles) => new()
    {
        Agency = agency,
        SubjectId = "s",
        Kind = kind,
        Roles = roles,
        Issuer = "https://issuer.test",
    };

    private static string? Grant(Caller caller, string model)
    {
        var snapshot = PolicyFixture.Snapshot;
        return Entitlement.GrantingRole(caller, snapshot.Agencies[caller.Agency], snapshot.ModelsByName[model]);
    }
}
