using System.Security.Claims;
using AiGateway.Identity;
using AiGateway.Model;

namespace AiGateway.Tests.Identity;

public sealed class CallerResolverTests
{
    [Fact]
    public void Issuer_selects_the_agency()
    {
        var alpha = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "s1"));
        var bravo = Resolve(("iss", PolicyFixture.BravoIssuer), ("employee_id", "e1"));

        Assert.Equal("alpha", alpha!.Agency);
        Assert.Equal("bravo", bravo!.Agency);
        Assert.Equal(PolicyFixture.AlphaIssuer, alpha.Issuer);
    }

    [Fact]
    public void Unknown_issuer_resolves_to_null()
    {
        Assert.Null(Resolve(("iss", "https://login.example.test/mallory"), ("sub", "s1"), ("roles", "engineer")));
    }

    [Fact]
    public void Missing_issuer_resolves_to_null()
    {
        Assert.Null(Resolve(("sub", "s1"), ("roles", "engineer")));
    }

    [Fact]
    public void Issuer_match_is_exact()
    {
        Assert.Null(Resolve(("iss", PolicyFixture.AlphaIssuer + "/"), ("sub", "s1")));
        Assert.Null(Resolve(("iss", PolicyFixture.AlphaIssuer.ToUpperInvariant()), ("sub", "s1")));
    }

    [Fact]
    public void Subject_is_oid_when_present()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "pairwise-sub"), ("oid", "object-id"));

        Assert.Equal("object-id", caller!.SubjectId);
    }

    [Fact]
    public void Subject_falls_back_to_sub_without_oid()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "pairwise-sub"));

        Assert.Equal("pairwise-sub", caller!.SubjectId);
    }

    [Fact]
    public void Configured_subject_claim_wins()
    {
        var caller = Resolve(("iss", PolicyFixture.BravoIssuer), ("sub", "s"), ("oid", "o"), ("employee_id", "E-42"));

        Assert.Equal("E-42", caller!.SubjectId);
    }

    [Fact]
    public void Token_without_any_subject_resolves_to_null()
    {
        Assert.Null(Resolve(("iss", PolicyFixture.AlphaIssuer), ("roles", "engineer")));
    }

    [Fact]
    public void Idtyp_app_is_a_workload()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "sp"), ("idtyp", "app"), ("azp", "client"));

        Assert.Equal(CallerKind.Workload, caller!.Kind);
        Assert.Equal("client", caller.ClientAppId);
    }

    [Fact]
    public void Idtyp_app_is_a_workload_even_with_scopes()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "sp"), ("idtyp", "app"), ("scp", "x"));

        Assert.Equal(CallerKind.Workload, caller!.Kind);
    }

    [Theory]
    [InlineData("azp")]
    [InlineData("appid")]
    [InlineData("client_id")]
    public void Client_credentials_token_without_scope_is_a_workload(string clientClaim)
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "sp"), (clientClaim, "client"));

        Assert.Equal(CallerKind.Workload, caller!.Kind);
        Assert.Equal("client", caller.ClientAppId);
    }

    [Theory]
    [InlineData("scp")]
    [InlineData("scope")]
    public void Delegated_token_with_scope_is_a_person(string scopeClaim)
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"), ("azp", "client"), (scopeClaim, "access_as_user"));

        Assert.Equal(CallerKind.Person, caller!.Kind);
    }

    [Fact]
    public void Token_whose_sub_is_its_client_id_is_a_workload_even_with_scope()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "client"), ("client_id", "client"), ("scope", "api.read"));

        Assert.Equal(CallerKind.Workload, caller!.Kind);
    }

    [Fact]
    public void Token_with_user_name_is_a_person()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"), ("azp", "client"), ("upn", "ann@agency.gov"));

        Assert.Equal(CallerKind.Person, caller!.Kind);
        Assert.Equal("ann@agency.gov", caller.UserName);
    }

    [Fact]
    public void Token_without_client_id_is_a_person()
    {
        Assert.Equal(CallerKind.Person, Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"))!.Kind);
    }

    [Fact]
    public void Idtyp_user_is_a_person_even_without_scope()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"), ("idtyp", "user"), ("azp", "client"));

        Assert.Equal(CallerKind.Person, caller!.Kind);
    }

    [Fact]
    public void Roles_come_from_the_roles_claim()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"), ("roles", "analyst"), ("roles", "agent"));

        Assert.Equal(["analyst", "agent"], caller!.Roles);
    }

    [Fact]
    public void Mapped_group_adds_its_roles_once()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"), ("roles", "engineer"), ("groups", PolicyFixture.EngineersGroup), ("groups", "unmapped"));

        Assert.Equal(["engineer"], caller!.Roles);
        Assert.Equal([PolicyFixture.EngineersGroup, "unmapped"], caller.Groups);
    }

    [Fact]
    public void Mapped_group_alone_grants_its_role()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"), ("groups", PolicyFixture.EngineersGroup));

        Assert.Equal(["engineer"], caller!.Roles);
    }

    [Fact]
    public void Unmapped_group_grants_no_role()
    {
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"), ("groups", Guid.NewGuid().ToString()));

        Assert.Empty(caller!.Roles);
    }

    [Fact]
    public void Group_of_another_agency_grants_nothing()
    {
        // 'team-1' is mapped by bravo only.
        var caller = Resolve(("iss", PolicyFixture.AlphaIssuer), ("sub", "u"), ("groups", "team-1"));

        Assert.Empty(caller!.Roles);
    }

    [Fact]
    public void Configured_role_and_group_claim_names_are_used()
    {
        var caller = Resolve(("iss", PolicyFixture.BravoIssuer), ("employee_id", "e"), ("app_roles", "engineer"), ("roles", "ignored"), ("teams", "team-1"));

        Assert.Equal(["engineer"], caller!.Roles);
    }

    private static Caller? Resolve(params (string Type, string Value)[] claims)
    {
        var identity = new ClaimsIdentity("test");
        foreach (var (type, value) in claims)
        {
            identity.AddClaim(new Claim(type, value));
        }

        return CallerResolver.Resolve(new ClaimsPrincipal(identity), PolicyFixture.Snapshot, PolicyFixture.Issuers);
    }
}
