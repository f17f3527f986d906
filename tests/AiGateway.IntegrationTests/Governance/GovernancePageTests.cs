using System.Net;
using AiGateway.IntegrationTests.Infrastructure;
using AiGateway.IntegrationTests.Scim;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using static AiGateway.IntegrationTests.Scim.ScimHttp;

namespace AiGateway.IntegrationTests.Governance;

/// <summary>
/// The governance page in a real headless Chromium (Debian's chromium + chromium-driver, installed by .ci/run): it shows
/// nothing without an admin token, refuses a non-admin one, and with an admin token shows the seeded data and draws the chart.
/// </summary>
public sealed class GovernancePageTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    [Fact]
    public async Task Governance_page_requires_an_admin_token_and_shows_the_seeded_data_and_chart()
    {
        Assert.True(File.Exists(Chromium) && File.Exists(ChromeDriver), "headless Chromium is needed: apt-get install -y chromium chromium-driver (.ci/run does).");
        await using var scenario = await DirectoryScenario.StartAsync(agencyExtra: """
            ,
              "workloads": { "report-bot": { "owner": "jane@agency.gov", "roles": ["analyst"] } }
            """);
        await SeedAsync(scenario);
        var admin = scenario.Issuer.Token().PreferredUsername("admin@agency.gov").Roles("engineer").Build();
        var analyst = scenario.Issuer.Token().PreferredUsername("viewer@agency.gov").Roles("analyst").Build();

        // The data API itself refuses without a token: the page shell is public, the data is not.
        using (var anonymous = await scenario.Gateway.CreateClient().GetAsync("admin/v1/governance?agency=alpha"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var driver = StartChromium();
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(20));
        driver.Navigate().GoToUrl(new Uri(scenario.Gateway.BaseAddress, "admin/governance/alpha"));
        Assert.Equal("locked", driver.FindElement(By.TagName("body")).GetDomAttribute("data-state"));
        Assert.False(driver.FindElement(By.Id("data")).Displayed);
        Assert.Empty(driver.FindElements(By.CssSelector("#chart svg")));

        Submit(driver, analyst);
        wait.Until(d => d.FindElement(By.TagName("body")).GetDomAttribute("data-state") == "denied");
        Assert.Contains("403", driver.FindElement(By.Id("status")).Text, StringComparison.Ordinal);
        Assert.False(driver.FindElement(By.Id("data")).Displayed);
        Assert.Empty(driver.FindElements(By.CssSelector("#deprovisioning tbody tr")));

        Submit(driver, admin);
        wait.Until(d => d.FindElement(By.TagName("body")).GetDomAttribute("data-state") == "loaded");
        Assert.True(driver.FindElement(By.Id("data")).Displayed);

        var deprovisioning = Rows(driver, "deprovisioning");
        Assert.Contains(deprovisioning, r => r.Contains("noah@agency.gov", StringComparison.Ordinal) && r.Contains("deactivated", StringComparison.Ordinal));
        Assert.Contains(deprovisioning, r => r.Contains("mia@agency.gov", StringComparison.Ordinal) && r.Contains("removed-from-group", StringComparison.Ordinal));
        Assert.Contains("CUI | 1", Rows(driver, "blocks"));
        // secure-llm: only the admin (token role engineer) now; mia lost it with the group, noah is inactive, the bot is an analyst.
        Assert.Contains("secure-llm | SECRET | 1 | 0 | 0", Rows(driver, "access"));
        Assert.Contains("gpt-4o-mini | UNCLASSIFIED | 1 | 1 | 2", Rows(driver, "access"));
        Assert.Contains(Rows(driver, "dormant"), r => r.StartsWith("workload | report-bot", StringComparison.Ordinal) && r.Contains("never", StringComparison.Ordinal));

        // The chart: one bar per day of the 14-day window, today's (the last) carrying the seeded traffic.
        var bars = driver.FindElements(By.CssSelector("#chart svg rect.bar"));
        Assert.Equal(14, bars.Count);
        Assert.True(long.Parse(bars[^1].GetDomAttribute("data-tokens")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.True(int.Parse(bars[^1].GetDomAttribute("height")!, System.Globalization.CultureInfo.InvariantCulture) > 0);

        // And it is really drawn: the chart region of a screenshot holds the bar colour.
        var chart = driver.FindElement(By.CssSelector("#chart svg"));
        var png = PngImage.Decode(((ITakesScreenshot)chart).GetScreenshot().AsByteArray);
        var coloured = 0;
        for (var y = 0; y < png.Height; y++)
        {
            for (var x = 0; x < png.Width; x++)
            {
                var (r, g, b) = png[x, y];
                if ((Near(r, 0x09) && Near(g, 0x69) && Near(b, 0xda)) || (Near(r, 0xcf) && Near(g, 0x22) && Near(b, 0x2e)))
                {
                    coloured++;
                }
            }
        }

        Assert.True(coloured > 200, $"only {coloured} bar-coloured pixels in the {png.Width}x{png.Height} chart screenshot");

        // No secret ended up in the page's markup.
        Assert.DoesNotContain(admin, driver.PageSource, StringComparison.Ordinal);
    }

    private static async Task SeedAsync(DirectoryScenario scenario)
    {
        using var scim = scenario.Scim();
        var mia = await CreateUserAsync(scim, "mia@agency.gov");
        var noah = await CreateUserAsync(scim, "noah@agency.gov");
        var group = await CreateGroupAsync(scim, "AI Engineers", mia, noah);
        await PatchAsync(scim, "Users/" + noah, """[{ "op": "Replace", "path": "active", "value": "False" }]""");

        var miaToken = scenario.Issuer.Token().PreferredUsername("mia@agency.gov").Build();
        using (var ok = await GatewayCalls.ChatAsync(scenario.Gateway, miaToken, "secure-llm"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // A CUI-marked prompt to an UNCLASSIFIED model is blocked and counted by level.
        using var client = scenario.Gateway.CreateClient(miaToken);
        using (var blocked = await client.SendAsync(GatewayHttp.Post("v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"CUI//SP-PRVCY\nEmployee records follow."}]}""")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        }

        // Mia leaves the granting group (after her use): a deprovisioning event.
        await PatchAsync(scim, "Groups/" + group, $$"""[{ "op": "remove", "path": "members[value eq \"{{mia}}\"]" }]""");

        var admin = scenario.Issuer.Token().PreferredUsername("admin@agency.gov").Roles("engineer").Build();
        using var adminCall = await GatewayCalls.ChatAsync(scenario.Gateway, admin, "secure-llm");
        Assert.Equal(HttpStatusCode.OK, adminCall.StatusCode);
    }

    private static ChromeDriver StartChromium()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600", "--force-device-scale-factor=1");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    private static void Submit(IWebDriver driver, string token)
    {
        var input = driver.FindElement(By.Id("token"));
        input.Clear();
        input.SendKeys(token);
        driver.FindElement(By.Id("load")).Click();
    }

    private static List<string> Rows(IWebDriver driver, string table) =>
        driver.FindElements(By.CssSelector($"#{table} tbody tr"))
            .Select(tr => string.Join(" | ", tr.FindElements(By.TagName("td")).Select(td => td.Text)))
            .ToList();

    private static bool Near(byte value, int expected) => Math.Abs(value - expected) <= 24;
}
