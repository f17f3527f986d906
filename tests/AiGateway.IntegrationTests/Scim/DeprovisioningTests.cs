using System.Diagnostics;
using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static AiGateway.IntegrationTests.Scim.ScimHttp;

namespace AiGateway.IntegrationTests.Scim;

/// <summary>Deprovisioning through SCIM takes effect on the next request, on every replica, though the JWT stays valid (issue #7).</summary>
public sealed class DeprovisioningTests(ITestOutputHelper output)
{
    /// <summary>Generous: the measured figure (written to the test output) is milliseconds; this only catches a broken design.</summary>
    private static readonly TimeSpan RevocationBound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Deactivated_user_is_denied_on_both_replicas_sharing_redis()
    {
        // A person's token without a user name (delegated scope only): matched by externalId = sub alone.
        await using var scenario = await DirectoryScenario.StartAsync(replicas: 2, redis: true);
        var (a, b) = (scenario.Gateways[0], scenario.Gateways[1]);
        using var scim = scenario.Scim(a);
        var subject = Guid.NewGuid().ToString();
        var token = scenario.Issuer.Token().Subject(subject).Scopes("chat").Roles("analyst").Build();
        var id = await CreateUserAsync(scim, "casey@agency.gov", externalId: subject);
        await AssertStatusAsync(a, token, HttpStatusCode.OK);
        await AssertStatusAsync(b, token, HttpStatusCode.OK);

        // Measured five times: from sending the SCIM PATCH until each replica has refused a request.
        var delays = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            var clock = Stopwatch.StartNew();
            var (patched, _) = await PatchAsync(scim, "Users/" + id, """[{ "op": "Replace", "path": "active", "value": "False" }]""");
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            var answered = clock.Elapsed;
            TimeSpan? deniedA = null, deniedB = null;
            var attempts = 0;
            while ((deniedA is null || deniedB is null) && clock.Elapsed < RevocationBound)
            {
                attempts++;
                if (deniedA is null && await StatusAsync(a, token) == HttpStatusCode.Forbidden)
                {
                    deniedA = clock.Elapsed;
                }

                if (deniedB is null && await StatusAsync(b, token) == HttpStatusCode.Forbidden)
                {
                    deniedB = clock.Elapsed;
                }
            }

            output.WriteLine($"round {round}: SCIM PATCH answered after {answered.TotalMilliseconds:0.0} ms; denied on replica A at {deniedA?.TotalMilliseconds:0.0} ms, replica B at {deniedB?.TotalMilliseconds:0.0} ms; {attempts} polling round(s)");
            Assert.True(deniedA is not null && deniedB is not null, $"not denied on both replicas within {RevocationBound}");
            Assert.Equal(1, attempts); // read per request from Redis: the very first request after the SCIM answer is refused
            delays.Add(Math.Max(deniedA!.Value.TotalMilliseconds, deniedB!.Value.TotalMilliseconds));
            if (round < 4)
            {
                await PatchAsync(scim, "Users/" + id, """[{ "op": "replace", "value": { "active": true } }]""");
                await AssertStatusAsync(a, token, HttpStatusCode.OK);
                await AssertStatusAsync(b, token, HttpStatusCode.OK);
            }
        }

        delays.Sort();
        output.WriteLine($"revocation on both replicas (PATCH sent → both refused): min {delays[0]:0.0} ms, median {delays[2]:0.0} ms, max {delays[4]:0.0} ms");

        using var response = await GatewayCalls.ChatAsync(b, token);
        var error = await GatewayCalls.ReadOpenAIErrorAsync(response);
        Assert.Equal("caller_deprovisioned", error.GetProperty("code").GetString());

        // Reactivation restores access on both.
        await PatchAsync(scim, "Users/" + id, """[{ "op": "replace", "value": { "active": true } }]""");
        await AssertStatusAsync(a, token, HttpStatusCode.OK);
        await AssertStatusAsync(b, token, HttpStatusCode.OK);

        // Deletion too, on the other replica: the deleted subject is remembered, not treated as unknown.
        using var scimB = scenario.Scim(b);
        var (deleted, _) = await SendAsync(scimB, HttpMethod.Delete, "Users/" + id);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertStatusAsync(a, token, HttpStatusCode.Forbidden);
        await AssertStatusAsync(b, token, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Removing_the_user_from_the_granting_group_denies_that_model()
    {
        await using var scenario = await DirectoryScenario.StartAsync();
        using var scim = scenario.Scim();
        // Matched by user name: the token's preferred_username equals the SCIM userName (no externalId).
        var token = scenario.Issuer.Token().PreferredUsername("Dana@Agency.gov").Roles("analyst").Build();
        var user = await CreateUserAsync(scim, "dana@agency.gov");
        var group = await CreateGroupAsync(scim, "AI Engineers", user);

        // secure-llm is granted only by engineer, which only the SCIM group gives.
        await AssertStatusAsync(scenario.Gateway, token, HttpStatusCode.OK, "secure-llm");
        var (patched, _) = await PatchAsync(scim, "Groups/" + group, $$"""[{ "op": "remove", "path": "members[value eq \"{{user}}\"]" }]""");
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

        using var denied = await GatewayCalls.ChatAsync(scenario.Gateway, token, "secure-llm");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("model_not_permitted", (await GatewayCalls.ReadOpenAIErrorAsync(denied)).GetProperty("code").GetString());
        await AssertStatusAsync(scenario.Gateway, token, HttpStatusCode.OK, "gpt-4o-mini"); // the token's own role still applies

        var ids = await GatewayCalls.ListModelIdsAsync(scenario.Gateway, token);
        Assert.Equal(["gpt-4o-mini"], ids);
    }

    [Fact]
    public async Task Directory_required_denies_an_unprovisioned_user_until_provisioned()
    {
        await using var scenario = await DirectoryScenario.StartAsync(mode: "directory-required");
        using var scim = scenario.Scim();
        var subject = Guid.NewGuid().ToString();
        var token = scenario.Issuer.Token().Subject(subject).Scopes("chat").Roles("analyst").Build();

        using var refused = await GatewayCalls.ChatAsync(scenario.Gateway, token);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("caller_not_provisioned", (await GatewayCalls.ReadOpenAIErrorAsync(refused)).GetProperty("code").GetString());

        var id = await CreateUserAsync(scim, "erin@agency.gov", externalId: subject);
        await AssertStatusAsync(scenario.Gateway, token, HttpStatusCode.OK);

        await PatchAsync(scim, "Users/" + id, """[{ "op": "replace", "path": "active", "value": false }]""");
        using var deprovisioned = await GatewayCalls.ChatAsync(scenario.Gateway, token);
        Assert.Equal("caller_deprovisioned", (await GatewayCalls.ReadOpenAIErrorAsync(deprovisioned)).GetProperty("code").GetString());

        // A provisioned-but-inactive user created that way from the start is denied as well.
        var other = Guid.NewGuid().ToString();
        await CreateUserAsync(scim, "frank@agency.gov", externalId: other, active: false);
        await AssertStatusAsync(scenario.Gateway, scenario.Issuer.Token().Subject(other).Scopes("chat").Roles("analyst").Build(), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Directory_optional_passes_unknown_users_and_denies_deleted_ones()
    {
        await using var scenario = await DirectoryScenario.StartAsync(mode: "directory-optional");
        using var scim = scenario.Scim();
        await AssertStatusAsync(scenario.Gateway, scenario.Issuer.Token().Scopes("chat").Roles("analyst").Build(), HttpStatusCode.OK);

        var subject = Guid.NewGuid().ToString();
        var token = scenario.Issuer.Token().Subject(subject).Scopes("chat").Roles("analyst").Build();
        var id = await CreateUserAsync(scim, "gale@agency.gov", externalId: subject);
        await AssertStatusAsync(scenario.Gateway, token, HttpStatusCode.OK);
        await SendAsync(scim, HttpMethod.Delete, "Users/" + id);
        await AssertStatusAsync(scenario.Gateway, token, HttpStatusCode.Forbidden);

        // Provisioned again (a re-hire): allowed again.
        await CreateUserAsync(scim, "gale@agency.gov", externalId: subject);
        await AssertStatusAsync(scenario.Gateway, token, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Embedded_directory_survives_a_gateway_restart()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "aigw-dir-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var scenario = await DirectoryScenario.StartAsync(dataDirectory: dataDirectory);
            var subject = Guid.NewGuid().ToString();
            var token = scenario.Issuer.Token().Subject(subject).Scopes("chat").Roles("analyst").Build();
            var engineerToken = scenario.Issuer.Token().PreferredUsername("hana@agency.gov").Roles("analyst").Build();
            using (var scim = scenario.Scim())
            {
                var id = await CreateUserAsync(scim, "ivan@agency.gov", externalId: subject);
                var hana = await CreateUserAsync(scim, "hana@agency.gov");
                await CreateGroupAsync(scim, "AI Engineers", hana);
                await PatchAsync(scim, "Users/" + id, """[{ "op": "replace", "value": { "active": "False" } }]""");
            }

            await scenario.Gateways[0].App.StopAsync();
            await scenario.Gateways[0].App.DisposeAsync();
            scenario.Gateways.RemoveAt(0);

            var restarted = await scenario.StartGatewayAsync(dataDirectory);
            scenario.Gateways.Add(restarted);
            await AssertStatusAsync(restarted, token, HttpStatusCode.Forbidden);
            await AssertStatusAsync(restarted, engineerToken, HttpStatusCode.OK, "secure-llm");
            using var scimAfter = scenario.Scim(restarted);
            var (_, users) = await GetAsync(scimAfter, "Users");
            Assert.Equal(2, users.GetProperty("totalResults").GetInt32());
            var (_, groups) = await GetAsync(scimAfter, "Groups?filter=" + Uri.EscapeDataString("displayName eq \"AI Engineers\""));
            Assert.Equal(1, groups.GetProperty("Resources")[0].GetProperty("members").GetArrayLength());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Workloads_are_checked_against_the_agency_file()
    {
        await using var scenario = await DirectoryScenario.StartAsync(mode: "directory-required", agencyExtra: """
            ,
              "workloads": {
                "agent-ok": { "owner": "jane@agency.gov", "description": "Summariser", "roles": ["engineer"] },
                "agent-off": { "owner": "jane@agency.gov", "disabled": true }
              }
            """);
        await AssertStatusAsync(scenario.Gateway, scenario.Issuer.Token().Workload("agent-ok").Build(), HttpStatusCode.OK, "secure-llm");

        using var disabled = await GatewayCalls.ChatAsync(scenario.Gateway, scenario.Issuer.Token().Workload("agent-off").Roles("engineer").Build());
        Assert.Equal("caller_deprovisioned", (await GatewayCalls.ReadOpenAIErrorAsync(disabled)).GetProperty("code").GetString());

        using var unknown = await GatewayCalls.ChatAsync(scenario.Gateway, scenario.Issuer.Token().Workload("agent-unknown").Roles("engineer").Build());
        Assert.Equal("workload_not_registered", (await GatewayCalls.ReadOpenAIErrorAsync(unknown)).GetProperty("code").GetString());
    }

    private static async Task<HttpStatusCode> StatusAsync(TestGateway gateway, string token, string model = "gpt-4o-mini")
    {
        using var response = await GatewayCalls.ChatAsync(gateway, token, model);
        return response.StatusCode;
    }

    private static async Task AssertStatusAsync(TestGateway gateway, string token, HttpStatusCode expected, string model = "gpt-4o-mini")
    {
        using var response = await GatewayCalls.ChatAsync(gateway, token, model);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected} for {model}, got {(int)response.StatusCode}: {body}");
    }
}
