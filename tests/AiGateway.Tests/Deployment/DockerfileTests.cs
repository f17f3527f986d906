using System.Text.RegularExpressions;

namespace AiGateway.Tests.Deployment;

/// <summary>Docker cannot run here: these read the Dockerfile as text for the properties a reviewer would check.</summary>
public sealed partial class DockerfileTests
{
    private static readonly string[] s_lines = Logical(File.ReadAllText(RepositoryFiles.PathOf("Dockerfile")));

    // Continuation lines joined, comments dropped.
    private static string[] Logical(string text) =>
        Regex.Replace(text, @"\\\r?\n", " ").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    private static IEnumerable<string> Instructions(string keyword) =>
        s_lines.Where(l => l.StartsWith(keyword + " ", StringComparison.OrdinalIgnoreCase)).Select(l => l[(keyword.Length + 1)..].Trim());

    private static Dictionary<string, string> BuildArgs() =>
        Instructions("ARG").Select(a => a.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);

    private static string ResolveImage(string reference)
    {
        var match = ArgReference().Match(reference);
        return match.Success ? BuildArgs()[match.Groups[1].Value] : reference;
    }

    [Fact]
    public void Every_base_image_is_pinned_to_an_exact_tag_or_digest()
    {
        var froms = Instructions("FROM").ToList();
        Assert.True(froms.Count >= 2, "multi-stage build expected");
        foreach (var from in froms)
        {
            var image = ResolveImage(from.Split(' ')[0]);
            Assert.True(image.Contains("@sha256:", StringComparison.Ordinal) || PinnedTag().IsMatch(image), $"{image} is not pinned (exact x.y.z tag or digest)");
            Assert.DoesNotContain(":latest", image, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Build_stage_uses_the_sdk_and_final_stage_the_chiseled_aspnet_runtime()
    {
        var froms = Instructions("FROM").Select(f => ResolveImage(f.Split(' ')[0])).ToList();
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", froms[0], StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", froms[^1], StringComparison.Ordinal);
        Assert.Contains("chiseled", froms[^1], StringComparison.Ordinal);
        Assert.Contains(Instructions("RUN"), r => r.Contains("dotnet publish", StringComparison.Ordinal) && r.Contains("-c Release", StringComparison.Ordinal));
    }

    [Fact]
    public void Final_stage_runs_as_a_numeric_non_root_user()
    {
        var user = Assert.Single(Instructions("USER"));
        var uid = user.Split(':')[0];
        Assert.True(int.TryParse(uid, out var id), "USER must be numeric so Kubernetes runAsNonRoot can verify it");
        Assert.NotEqual(0, id);
        var lastFrom = Array.FindLastIndex(s_lines, l => l.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase));
        Assert.True(Array.FindIndex(s_lines, l => l.StartsWith("USER ", StringComparison.OrdinalIgnoreCase)) > lastFrom, "USER must be in the final stage");
    }

    [Fact]
    public void Exposes_the_port_the_app_listens_on_and_runs_in_production()
    {
        var env = string.Join(' ', Instructions("ENV"));
        Assert.Contains("ASPNETCORE_ENVIRONMENT=Production", env, StringComparison.Ordinal);
        var port = HttpPort().Match(env);
        Assert.True(port.Success);
        Assert.Equal(port.Groups[1].Value, Assert.Single(Instructions("EXPOSE")));
        Assert.Contains("Gateway__DataDirectory=/data", env, StringComparison.Ordinal);
    }

    [Fact]
    public void Healthcheck_uses_the_app_itself_because_the_image_has_no_shell()
    {
        var check = Assert.Single(Instructions("HEALTHCHECK"));
        Assert.Contains("CMD [\"dotnet\", \"AiGateway.dll\", \"probe\"", check, StringComparison.Ordinal);
        Assert.Contains("/healthz/live", check, StringComparison.Ordinal);
    }

    [Fact]
    public void No_secret_is_baked_into_the_image()
    {
        foreach (var line in Instructions("ENV").Concat(Instructions("ARG")))
        {
            Assert.DoesNotMatch(SecretName(), line);
        }

        var ignore = File.ReadAllLines(RepositoryFiles.PathOf(".dockerignore")).Select(l => l.Trim()).ToHashSet();
        foreach (var pattern in new[] { "**/bin/", "**/obj/", "**/data/", "**/*.key", ".git/" })
        {
            Assert.Contains(pattern, ignore);
        }
    }

    [Fact]
    public void Restore_layer_copies_every_project_the_gateway_references()
    {
        // A project added to the gateway but not to the restore layer would make `dotnet restore` in the image fail.
        var pending = new Queue<string>(["src/AiGateway/AiGateway.csproj"]);
        var seen = new HashSet<string>();
        while (pending.Count > 0)
        {
            var project = pending.Dequeue();
            if (!seen.Add(project))
            {
                continue;
            }

            Assert.Contains(Instructions("COPY"), c => c.StartsWith(project + " ", StringComparison.Ordinal));
            var xml = System.Xml.Linq.XDocument.Load(RepositoryFiles.PathOf(project));
            foreach (var reference in xml.Descendants("ProjectReference"))
            {
                var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(RepositoryFiles.PathOf(project))!, reference.Attribute("Include")!.Value.Replace('\\', '/')));
                pending.Enqueue(Path.GetRelativePath(RepositoryFiles.Root, path).Replace('\\', '/'));
            }
        }
    }

    [GeneratedRegex(@"^\$\{?(\w+)\}?$")]
    private static partial Regex ArgReference();

    [GeneratedRegex(@":\d+\.\d+\.\d+(-[a-z0-9.-]+)?$")]
    private static partial Regex PinnedTag();

    [GeneratedRegex(@"ASPNETCORE_HTTP_PORTS=(\d+)")]
    private static partial Regex HttpPort();

    [GeneratedRegex(@"(?i)(api_?key|secret|password|token)\s*=")]
    private static partial Regex SecretName();
}
