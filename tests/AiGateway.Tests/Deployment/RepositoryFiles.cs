using System.Diagnostics;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace AiGateway.Tests.Deployment;

/// <summary>The repository checkout the tests run from, and the tools that read its deployment files.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AiGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("AiGateway.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs <c>kubectl kustomize dir</c> (kubectl's built-in kustomize; no cluster needed) and parses every document.</summary>
    public static List<JsonObject> Kustomize(string directory)
    {
        var start = new ProcessStartInfo("kubectl", ["kustomize", directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "kubectl kustomize did not finish");
        Assert.True(process.ExitCode == 0, $"kubectl kustomize {directory} failed: {stderr.Result}");
        return ParseYamlDocuments(stdout.Result);
    }

    public static List<JsonObject> ParseYamlDocuments(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var documents = new List<JsonObject>();
        foreach (var document in stream.Documents)
        {
            if (ToJson(document.RootNode) is JsonObject obj)
            {
                documents.Add(obj);
            }
        }

        return documents;
    }

    // Scalars stay strings ("2", "true"): the assertions compare text, which is what kubectl would have parsed.
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => scalar.Value is null || (scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "null" or "~" or "") ? null : JsonValue.Create(scalar.Value),
        _ => null,
    };

    public static string Str(this JsonNode? node) => node?.GetValue<string>() ?? throw new InvalidOperationException("missing value");

    public static int Int(this JsonNode? node) => int.Parse(node.Str(), System.Globalization.CultureInfo.InvariantCulture);
}
