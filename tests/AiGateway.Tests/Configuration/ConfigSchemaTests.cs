using NJsonSchema;

namespace AiGateway.Tests.Configuration;

/// <summary>The JSON Schemas editors use must accept the shipped configuration and reject what validation rejects.</summary>
public sealed class ConfigSchemaTests
{
    private static readonly string s_root = FindRepositoryRoot();

    public static TheoryData<string, string> ShippedFiles()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.GetFiles(s_root, "*.json", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(s_root, file).Replace('\\', '/');
            if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("node_modules", StringComparison.Ordinal))
            {
                continue;
            }

            if (relative == "config/gateway.json" || (relative.StartsWith("k8s/", StringComparison.Ordinal) && relative.EndsWith("/gateway.json", StringComparison.Ordinal)))
            {
                data.Add(relative, "gateway.schema.json");
            }
            else if ((relative.StartsWith("config/agencies/", StringComparison.Ordinal) || relative.StartsWith("k8s/", StringComparison.Ordinal)) && relative.Contains("/agencies/", StringComparison.Ordinal))
            {
                data.Add(relative, "agency.schema.json");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedFiles))]
    public async Task Shipped_config_file_matches_its_schema(string file, string schemaName)
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(s_root, "config", "schema", schemaName));

        var errors = schema.Validate(await File.ReadAllTextAsync(Path.Combine(s_root, file)));

        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Fact]
    public async Task Agency_schema_rejects_an_unknown_property_and_a_bad_action()
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(s_root, "config", "schema", "agency.schema.json"));

        var errors = schema.Validate("""
            { "name": "x", "models": ["*"], "identity": { "providers": [ { "type": "dev" } ] },
              "inspection": { "actions": { "SECRET": "ignore" } }, "colour": "blue" }
            """);

        Assert.Contains(errors, e => e.Path?.Contains("colour", StringComparison.Ordinal) == true || e.Property == "colour");
        Assert.Contains(errors, e => e.Path?.Contains("SECRET", StringComparison.Ordinal) == true);
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AiGateway.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("AiGateway.sln not found above the test binaries.");
    }
}
