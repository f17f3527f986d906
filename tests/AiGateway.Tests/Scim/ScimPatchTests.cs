using System.Text.Json.Nodes;
using AiGateway.Scim;

namespace AiGateway.Tests.Scim;

public sealed class ScimPatchTests
{
    private static JsonObject User() => (JsonObject)JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
          "userName": "a@agency.gov",
          "active": true,
          "name": { "givenName": "A", "familyName": "B" },
          "emails": [{ "type": "work", "value": "a@agency.gov", "primary": true }, { "type": "home", "value": "a@home.example" }]
        }
        """)!;

    private static void Patch(JsonObject resource, string operations) =>
        ScimPatch.Apply(resource, (JsonObject)JsonNode.Parse($$"""{ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": {{operations}} }""")!);

    [Fact]
    public void Entra_string_active_becomes_a_boolean()
    {
        var user = User();
        Patch(user, """[{ "op": "Replace", "path": "active", "value": "False" }]""");
        var (_, _, active) = ScimResource.NormalizeUser(user);
        Assert.False(active);
        Assert.False(user["active"]!.GetValue<bool>());
    }

    [Fact]
    public void Pathless_replace_applies_dotted_keys_extension_keys_and_ignores_echoed_id()
    {
        var user = User();
        Patch(user, """
            [{ "op": "replace", "value": {
                "id": "x", "active": false, "name.givenName": "Ann",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Ops",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "employeeNumber": "42" } } }]
            """);
        Assert.False(user["active"]!.GetValue<bool>());
        Assert.Equal("Ann", user["name"]!["givenName"]!.GetValue<string>());
        Assert.Equal("B", user["name"]!["familyName"]!.GetValue<string>());
        var enterprise = user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]!;
        Assert.Equal("Ops", enterprise["department"]!.GetValue<string>());
        Assert.Equal("42", enterprise["employeeNumber"]!.GetValue<string>());
        Assert.False(user.ContainsKey("id"));
        ScimResource.NormalizeUser(user);
        Assert.Equal(2, user["schemas"]!.AsArray().Count);
    }

    [Fact]
    public void Filtered_paths_update_the_matching_element_or_create_it()
    {
        var user = User();
        Patch(user, """
            [{ "op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@agency.gov" },
             { "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555" },
             { "op": "remove", "path": "emails[type eq \"home\"]" }]
            """);
        var email = Assert.Single(user["emails"]!.AsArray());
        Assert.Equal("new@agency.gov", email!["value"]!.GetValue<string>());
        Assert.Equal("mobile", user["phoneNumbers"]![0]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Members_are_added_once_and_removed_by_filter_or_by_value_list()
    {
        var group = (JsonObject)JsonNode.Parse("""{ "displayName": "G", "members": [{ "value": "1" }, { "value": "2" }] }""")!;
        Patch(group, """[{ "op": "add", "path": "members", "value": [{ "value": "2" }, { "value": "3" }] }]""");
        Assert.Equal("1,2,3", Ids(group));
        Patch(group, """[{ "op": "remove", "path": "members[value eq \"1\"]" }]""");
        Assert.Equal("2,3", Ids(group));
        Patch(group, """[{ "op": "Remove", "path": "members", "value": [{ "value": "3" }] }]""");
        Assert.Equal("2", Ids(group));
        Patch(group, """[{ "op": "replace", "path": "members", "value": [{ "value": "9" }] }]""");
        Assert.Equal("9", Ids(group));
        Patch(group, """[{ "op": "remove", "path": "members" }]""");
        var (_, _, members) = ScimResource.NormalizeGroup(group);
        Assert.Empty(members);
    }

    [Theory]
    [InlineData("""[{ "op": "move", "path": "active", "value": true }]""", "invalidSyntax")]
    [InlineData("""[{ "op": "remove" }]""", "noTarget")]
    [InlineData("""[{ "op": "replace", "path": "emails[type eq \"work\"", "value": "x" }]""", "invalidPath")]
    [InlineData("""[{ "op": "replace", "path": "emails[type gt \"work\"].value", "value": "x" }]""", "invalidFilter")]
    [InlineData("""[{ "op": "replace", "path": "meta", "value": {} }]""", "mutability")]
    [InlineData("""[{ "op": "add", "path": "nickName" }]""", "invalidValue")]
    [InlineData("""[{ "op": "replace", "value": "not an object" }]""", "invalidValue")]
    [InlineData("""[]""", "invalidSyntax")]
    public void Invalid_operations_name_their_scimType(string operations, string scimType)
    {
        var ex = Assert.Throws<ScimException>(() => Patch(User(), operations));
        Assert.Equal(400, ex.Status);
        Assert.Equal(scimType, ex.ScimType);
    }

    [Fact]
    public void Extension_paths_split_at_the_known_schema()
    {
        var path = ScimPatch.Parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
        Assert.Equal("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", path.Extension);
        Assert.Equal("manager", path.Attribute);
        Assert.Equal("value", path.SubAttribute);
        var core = ScimPatch.Parse("urn:ietf:params:scim:schemas:core:2.0:User:userName");
        Assert.Null(core.Extension);
        Assert.Equal("userName", core.Attribute);
    }

    [Fact]
    public void Normalize_canonicalises_names_drops_read_only_and_checks_types()
    {
        var user = (JsonObject)JsonNode.Parse("""{ "USERNAME": "x@agency.gov", "Active": "True", "id": "mine", "meta": {}, "groups": [], "password": "p" }""")!;
        var (userName, externalId, active) = ScimResource.NormalizeUser(user);
        Assert.Equal("x@agency.gov", userName);
        Assert.Null(externalId);
        Assert.True(active);
        Assert.Equal("active,schemas,userName", string.Join(",", user.Select(p => p.Key).Order(StringComparer.Ordinal)));
        Assert.Equal("invalidValue", Assert.Throws<ScimException>(() => ScimResource.NormalizeUser((JsonObject)JsonNode.Parse("""{ "userName": "x", "externalId": 5 }""")!)).ScimType);
        Assert.Equal("invalidValue", Assert.Throws<ScimException>(() => ScimResource.NormalizeUser((JsonObject)JsonNode.Parse("""{ "userName": " " }""")!)).ScimType);
    }

    private static string Ids(JsonObject group) => string.Join(",", group["members"]!.AsArray().Select(m => m!["value"]!.GetValue<string>()));
}
