using AiGateway.Configuration;
using AiGateway.Scim;
using AiGateway.Tests.Identity;

namespace AiGateway.Tests.Scim;

/// <summary>The agency file's scim, directory, workloads and adminRoles sections: every error with its JSON path.</summary>
public sealed class AgencyGovernanceConfigTests
{
    private static string Agency(string extra) => $$"""
        {
          "name": "alpha",
          "models": ["*"],
          "identity": { "providers": [ { "type": "oidc", "authority": "{{PolicyFixture.AlphaIssuer}}", "audiences": ["api://aigateway"] } ] },
          "roles": { "analyst": { "models": ["gpt-4o-mini"] }, "engineer": { "models": ["*"] } },
          "limits": { "adminRoles": ["engineer"] }{{extra}}
        }
        """;

    [Fact]
    public void Valid_sections_become_the_agency_governance()
    {
        var variable = "AIGW_TEST_SCIM_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "s3cret");
        try
        {
            var snapshot = PolicyFixture.Load(("alpha", Agency($$"""
                ,
                  "adminRoles": ["analyst"],
                  "scim": { "token": { "env": "{{variable}}" } },
                  "directory": { "mode": "directory-required", "groupRoles": { "AI Engineers": ["engineer"] } },
                  "workloads": { "app-1": { "owner": "jane@agency.gov", "roles": ["analyst"] } }
                """)));
            var governance = snapshot.Agencies["alpha"].Governance;
            Assert.Equal(DirectoryMode.Required, governance.Mode);
            Assert.True(governance.ScimEnabled);
            Assert.Equal(["engineer"], governance.GroupRoles["ai engineers"]);
            Assert.Equal("jane@agency.gov", governance.Workloads["app-1"].Owner);
            Assert.Equal(["engineer", "analyst"], governance.AdminRoles);
            Assert.Equal(["engineer", "analyst"], snapshot.Agencies["alpha"].Limits.AdminRoles); // the usage API honours both
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Without_scim_or_directory_the_directory_is_off()
    {
        var governance = PolicyFixture.Load(("alpha", Agency(string.Empty))).Agencies["alpha"].Governance;
        Assert.Equal(DirectoryMode.Off, governance.Mode);
        Assert.False(governance.ScimEnabled);
    }

    [Fact]
    public void Every_error_is_reported_with_its_path()
    {
        var ex = Assert.Throws<ConfigValidationException>(() => PolicyFixture.Load(("alpha", Agency("""
            ,
              "adminRoles": ["root"],
              "scim": { "token": { "env": "AIGW_TEST_UNSET_VARIABLE_7" }, "generateWhenUnset": true },
              "directory": { "mode": "sometimes", "groupRoles": { "G": ["wizard"] } },
              "workloads": { "app-1": { "roles": ["ghost"] } }
            """))));
        var paths = ex.Errors.Select(e => e.Path).ToHashSet();
        Assert.Contains("$.adminRoles[0]", paths);
        Assert.Contains("$.scim.generateWhenUnset", paths); // refused in Production
        Assert.Contains("$.directory.mode", paths);
        Assert.Contains("$.directory.groupRoles['G'][0]", paths);
        Assert.Contains("$.workloads['app-1'].owner", paths);
        Assert.Contains("$.workloads['app-1'].roles[0]", paths);
        Assert.All(ex.Errors, e => Assert.EndsWith("alpha.json", e.File, StringComparison.Ordinal));

        var unset = Assert.Throws<ConfigValidationException>(() => PolicyFixture.Load(("alpha", Agency("""
            ,
              "scim": { "token": { "env": "AIGW_TEST_UNSET_VARIABLE_7" } }
            """))));
        Assert.Equal("$.scim.token.env", Assert.Single(unset.Errors).Path);
    }
}
