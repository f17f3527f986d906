using AiGateway.Governance;
using AiGateway.Model;
using AiGateway.Scim;
using AiGateway.Tests.Identity;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Governance;

/// <summary>Dormancy and grants in the access review, on a fake clock.</summary>
public sealed class AccessReviewTests
{
    private const string AgencyJson = $$"""
        {
          "name": "alpha",
          "models": ["*"],
          "identity": { "providers": [ { "type": "oidc", "authority": "{{PolicyFixture.AlphaIssuer}}", "audiences": ["api://aigateway"] } ] },
          "roles": {
            "analyst": { "models": ["gpt-4o-mini"] },
            "engineer": { "models": ["*"] },
            "agent": { "models": ["*"], "workloadModels": ["claude-3-5-haiku"] }
          },
          "directory": { "mode": "directory-optional", "groupRoles": { "AI Engineers": ["engineer"] } },
          "workloads": { "bot": { "owner": "jane@agency.gov", "roles": ["agent"] } }
        }
        """;

    private static readonly AiGateway.Configuration.GatewaySnapshot s_snapshot = PolicyFixture.Load(("alpha", AgencyJson));

    [Fact]
    public async Task Entitlements_unused_for_the_window_turn_dormant_as_the_clock_moves()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var store = new EmbeddedDirectoryStore(null, time);
        await store.PutUserAsync("alpha", new DirectoryUser("u1", "kim@agency.gov", "oid-kim", true, """{"userName":"kim@agency.gov","displayName":"Kim"}""", 0, time.GetUtcNow(), time.GetUtcNow()), true, null, default);
        await store.PutGroupAsync("alpha", new DirectoryGroup("g1", "AI Engineers", null, [new GroupMember("u1", null)], """{"displayName":"AI Engineers"}""", 0, default, default), true, null, default);
        store.RecordActivity("alpha", new ActivityRecord("oid-kim", CallerKind.Person, "kim@agency.gov", null, "secure-llm", [], 500, time.GetUtcNow(), true, null, null));
        store.RecordActivity("alpha", new ActivityRecord("bot", CallerKind.Workload, null, "bot", "claude-3-5-haiku", [], 50, time.GetUtcNow(), true, null, null));

        async Task<AccessReviewReport> ReviewAsync() => AccessReviewReport.Build(
            s_snapshot, s_snapshot.Agencies["alpha"],
            await store.ListUsersAsync("alpha", default), await store.ListGroupsAsync("alpha", default), await store.ReadActivityAsync("alpha", default),
            time.GetUtcNow(), dormantDays: 30);

        var fresh = await ReviewAsync();
        var kim = fresh.Entries.Single(e => e.UserName == "kim@agency.gov");
        Assert.Equal("engineer", Assert.Single(kim.Grants).Role);
        Assert.Equal("group:AI Engineers", kim.Grants[0].Via);
        Assert.Equal(["gpt-4o-mini", "claude-3-5-haiku"], kim.DormantModels); // granted, never used
        Assert.False(kim.Dormant);
        Assert.Equal(500, kim.TokensInPeriod);
        var bot = fresh.Entries.Single(e => e.SubjectId == "bot");
        Assert.Equal(["claude-3-5-haiku"], bot.Models); // workloadModels, not models
        Assert.Empty(bot.DormantModels);
        Assert.Equal("jane@agency.gov", bot.Owner);

        time.Advance(TimeSpan.FromDays(29));
        Assert.False((await ReviewAsync()).Entries.Single(e => e.SubjectId == "bot").Dormant);

        time.Advance(TimeSpan.FromDays(2));
        var later = await ReviewAsync();
        kim = later.Entries.Single(e => e.UserName == "kim@agency.gov");
        Assert.True(kim.Dormant);
        Assert.Equal(["gpt-4o-mini", "claude-3-5-haiku", "secure-llm"], kim.DormantModels);
        Assert.Equal(0, kim.TokensInPeriod);
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromDays(31), kim.LastUse);
        Assert.True(later.Entries.Single(e => e.SubjectId == "bot").Dormant);
    }

    [Fact]
    public void Csv_escapes_separators_and_neutralises_formulas()
    {
        var report = new AccessReviewReport("alpha", DateTimeOffset.UnixEpoch, 30, DateTimeOffset.UnixEpoch,
        [
            new AccessReviewEntry
            {
                Kind = "person", SubjectId = "s", UserName = "=HYPERLINK(\"x\")", DisplayName = "Lee, \"Sam\"", Status = "active", Sources = ["directory"],
                Grants = [], Models = [], LastUseByModel = new Dictionary<string, DateTimeOffset>(), DormantModels = [],
            },
        ]);
        var row = report.ToCsv().Split("\r\n")[1];
        Assert.Equal("alpha,person,s,\"'=HYPERLINK(\"\"x\"\")\",\"Lee, \"\"Sam\"\"\",active,directory,,,,,0,0,,false", row);
    }
}
