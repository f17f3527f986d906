using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.IntegrationTests.Scim;
using static AiGateway.IntegrationTests.Scim.ScimHttp;

namespace AiGateway.IntegrationTests.Governance;

/// <summary>The access review over the embedded store.</summary>
public sealed class EmbeddedAccessReviewTests() : AccessReviewTests(redis: false);

/// <summary>The access review over Redis (activity coalesced per replica, flushed every second and before a read).</summary>
public sealed class RedisAccessReviewTests() : AccessReviewTests(redis: true)
{
    [Fact]
    public async Task Activity_coalesced_on_two_replicas_adds_up_in_redis()
    {
        await using var scenario = await DirectoryScenario.StartAsync(replicas: 2, redis: true);
        var token = scenario.Issuer.Token().PreferredUsername("ray@agency.gov").Roles("analyst").Build();
        var tokens = 0L;
        for (var i = 0; i < 6; i++)
        {
            using var r = await GatewayCalls.ChatAsync(scenario.Gateways[i % 2], token);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            tokens += JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt64();
        }

        using (var denied = await GatewayCalls.ChatAsync(scenario.Gateways[1], token, "secure-llm"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }

        // Replica 0's read flushes its own three requests; replica 1's four arrive within its flush interval (1 s).
        var admin = scenario.Issuer.Token().PreferredUsername("admin@agency.gov").Roles("engineer").Build();
        using var client = scenario.Gateway.CreateClient(admin);
        JsonElement entry = default;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var report = JsonDocument.Parse(await client.GetStringAsync("admin/v1/access-review?dormantDays=30")).RootElement;
            entry = report.GetProperty("entries").EnumerateArray().FirstOrDefault(e => e.TryGetProperty("userName", out var u) && u.GetString() == "ray@agency.gov");
            if (entry.ValueKind == JsonValueKind.Object && entry.GetProperty("requestsInPeriod").GetInt64() >= 7)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(JsonValueKind.Object, entry.ValueKind);
        Assert.Equal(7, entry.GetProperty("requestsInPeriod").GetInt64()); // the refused one counts as a request, not as use of its model
        Assert.Equal(tokens, entry.GetProperty("tokensInPeriod").GetInt64());
        Assert.True(entry.GetProperty("lastUseByModel").TryGetProperty("gpt-4o-mini", out _));
        Assert.False(entry.GetProperty("lastUseByModel").TryGetProperty("secure-llm", out _));
    }
}

/// <summary>The access review joins what the directory and the agency file grant with what traffic shows (issue #7).</summary>
public abstract class AccessReviewTests(bool redis) : IAsyncLifetime
{
    private DirectoryScenario _scenario = null!;

    public async Task InitializeAsync() =>
        _scenario = await DirectoryScenario.StartAsync(redis: redis, agencyExtra: """
            ,
              "workloads": { "summariser-app": { "owner": "jane@agency.gov", "description": "Nightly summaries", "roles": ["analyst"] } }
            """);

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<HttpResponseMessage> GetAsync(string path, string? token)
    {
        using var client = _scenario.Gateway.CreateClient(token);
        return await client.GetAsync(path);
    }

    [Fact]
    public async Task Access_review_lists_people_and_workloads_with_their_grants_use_and_dormancy()
    {
        using var scim = _scenario.Scim();
        var kimSubject = Guid.NewGuid().ToString();
        var kim = await CreateUserAsync(scim, "kim@agency.gov", externalId: kimSubject);
        var lee = await CreateUserAsync(scim, "lee@agency.gov", externalId: Guid.NewGuid().ToString());
        await CreateGroupAsync(scim, "AI Engineers", kim, lee);
        await PatchAsync(scim, "Users/" + lee, """[{ "op": "replace", "path": "active", "value": "False" }]""");

        // Kim uses one model (the group grants all three); an analyst only known from traffic uses another; the workload never calls.
        var kimToken = _scenario.Issuer.Token().Subject(kimSubject).PreferredUsername("kim@agency.gov").Build();
        using (var r = await GatewayCalls.ChatAsync(_scenario.Gateway, kimToken, "secure-llm"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var analystToken = _scenario.Issuer.Token().PreferredUsername("pat@agency.gov").Roles("analyst").Build();
        using (var r = await GatewayCalls.ChatAsync(_scenario.Gateway, analystToken))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var admin = _scenario.Issuer.Token().PreferredUsername("admin@agency.gov").Roles("engineer").Build();
        // Activity is written without waiting for the store (fire-and-forget on Redis): read until both requests are in.
        var (status, text) = await ReadReviewAsync(admin, t => t.Contains("pat@agency.gov", StringComparison.Ordinal) && t.Contains("\"requestsInPeriod\":1", StringComparison.Ordinal));
        Assert.True(status == HttpStatusCode.OK, text);
        var report = JsonDocument.Parse(text).RootElement;
        Assert.Equal("alpha", report.GetProperty("agency").GetString());
        Assert.Equal(30, report.GetProperty("dormantDays").GetInt32());
        var entries = report.GetProperty("entries").EnumerateArray().ToDictionary(e => e.TryGetProperty("userName", out var u) ? u.GetString()! : e.GetProperty("subjectId").GetString()!);

        var kimEntry = entries["kim@agency.gov"];
        Assert.Equal("person", kimEntry.GetProperty("kind").GetString());
        Assert.Equal("active", kimEntry.GetProperty("status").GetString());
        Assert.Equal(kimSubject, kimEntry.GetProperty("subjectId").GetString());
        var grant = Assert.Single(kimEntry.GetProperty("grants").EnumerateArray());
        Assert.Equal("engineer", grant.GetProperty("role").GetString());
        Assert.Equal("group:AI Engineers", grant.GetProperty("via").GetString());
        Assert.Equal("gpt-4o-mini,claude-3-5-haiku,secure-llm", Join(kimEntry.GetProperty("models")));
        Assert.Equal("gpt-4o-mini,claude-3-5-haiku", Join(kimEntry.GetProperty("dormantModels")));
        Assert.False(kimEntry.GetProperty("dormant").GetBoolean());
        Assert.Equal(1, kimEntry.GetProperty("requestsInPeriod").GetInt64());
        Assert.True(kimEntry.GetProperty("tokensInPeriod").GetInt64() > 0);
        Assert.True(kimEntry.GetProperty("lastUseByModel").TryGetProperty("secure-llm", out _));
        Assert.Equal("directory,traffic", Join(kimEntry.GetProperty("sources")));

        var leeEntry = entries["lee@agency.gov"];
        Assert.Equal("inactive", leeEntry.GetProperty("status").GetString());
        Assert.Equal(0, leeEntry.GetProperty("models").GetArrayLength());
        Assert.Equal("engineer", leeEntry.GetProperty("grants")[0].GetProperty("role").GetString());

        var patEntry = entries["pat@agency.gov"];
        Assert.Equal("unprovisioned", patEntry.GetProperty("status").GetString());
        Assert.Equal("token", patEntry.GetProperty("grants")[0].GetProperty("via").GetString());
        Assert.Equal("gpt-4o-mini", Join(patEntry.GetProperty("models")));
        Assert.Equal(0, patEntry.GetProperty("dormantModels").GetArrayLength());

        var workload = entries["summariser-app"];
        Assert.Equal("workload", workload.GetProperty("kind").GetString());
        Assert.Equal("jane@agency.gov", workload.GetProperty("owner").GetString());
        Assert.Equal("workload-config", workload.GetProperty("grants")[0].GetProperty("via").GetString());
        Assert.Equal("gpt-4o-mini", Join(workload.GetProperty("models")));
        Assert.True(workload.GetProperty("dormant").GetBoolean());
        Assert.False(workload.TryGetProperty("lastUse", out _));

        // The same review as CSV, one row per subject.
        using var csvResponse = await GetAsync("admin/v1/access-review?format=csv&dormantDays=30", admin);
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        var lines = (await csvResponse.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("agency,kind,subject_id,user_name,display_name,status,sources,owner,roles,models,last_use,tokens_in_period,requests_in_period,dormant_models,dormant", lines[0]);
        Assert.Equal(entries.Count + 1, lines.Length);
        var kimRow = Assert.Single(lines, l => l.Contains("kim@agency.gov", StringComparison.Ordinal));
        Assert.Contains(",engineer@group:AI Engineers,gpt-4o-mini;claude-3-5-haiku;secure-llm,", kimRow, StringComparison.Ordinal);
        Assert.EndsWith(",gpt-4o-mini;claude-3-5-haiku,false", kimRow, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Access_review_needs_an_admin_role_of_the_agency()
    {
        using (var anonymous = await GetAsync("admin/v1/access-review", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var analyst = await GetAsync("admin/v1/access-review", _scenario.Issuer.Token().PreferredUsername("a@agency.gov").Roles("analyst").Build()))
        {
            Assert.Equal(HttpStatusCode.Forbidden, analyst.StatusCode);
            Assert.Equal("admin_role_required", (await GatewayCalls.ReadOpenAIErrorAsync(analyst)).GetProperty("code").GetString());
        }

        var admin = _scenario.Issuer.Token().PreferredUsername("admin@agency.gov").Roles("engineer").Build();
        using (var otherAgency = await GetAsync("admin/v1/governance?agency=beta", admin))
        {
            Assert.Equal(HttpStatusCode.Forbidden, otherAgency.StatusCode);
        }

        using (var badDays = await GetAsync("admin/v1/access-review?dormantDays=0", admin))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badDays.StatusCode);
        }

        // The SCIM credential is not an admin token.
        using var scimSecret = await GetAsync("admin/v1/access-review", _scenario.Secret.Secret);
        Assert.Equal(HttpStatusCode.Unauthorized, scimSecret.StatusCode);
    }

    private async Task<(HttpStatusCode Status, string Text)> ReadReviewAsync(string token, Func<string, bool> complete)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var response = await GetAsync("admin/v1/access-review?dormantDays=30", token);
            var text = await response.Content.ReadAsStringAsync();
            if (complete(text) || DateTime.UtcNow > deadline)
            {
                return (response.StatusCode, text);
            }

            await Task.Delay(50);
        }
    }

    private static string Join(JsonElement array) => string.Join(",", array.EnumerateArray().Select(e => e.GetString()));
}
