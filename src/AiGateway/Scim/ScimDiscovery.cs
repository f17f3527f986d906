using System.Text.Json.Nodes;

namespace AiGateway.Scim;

/// <summary>The discovery endpoints (RFC 7644 §4): what this service provider supports.</summary>
internal static class ScimDiscovery
{
    public static JsonNode ServiceProviderConfig(string baseUrl) => new JsonObject
    {
        ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"),
        ["documentationUri"] = "docs/governance.md",
        ["patch"] = new JsonObject { ["supported"] = true },
        ["bulk"] = new JsonObject { ["supported"] = false, ["maxOperations"] = 0, ["maxPayloadSize"] = 0 },
        ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = 1000 },
        ["changePassword"] = new JsonObject { ["supported"] = false },
        ["sort"] = new JsonObject { ["supported"] = false },
        ["etag"] = new JsonObject { ["supported"] = true },
        ["authenticationSchemes"] = new JsonArray(new JsonObject
        {
            ["type"] = "oauthbearertoken",
            ["name"] = "OAuth Bearer Token",
            ["description"] = "The agency's provisioning secret as a bearer token (Authorization: Bearer <secret>).",
            ["primary"] = true,
        }),
        ["meta"] = new JsonObject { ["resourceType"] = "ServiceProviderConfig", ["location"] = baseUrl + "/ServiceProviderConfig" },
    };

    public static JsonNode ResourceTypes(string baseUrl, string? id)
    {
        JsonObject Type(string name, string endpoint, string schema, bool enterprise) => new()
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:ResourceType"),
            ["id"] = name,
            ["name"] = name,
            ["endpoint"] = endpoint,
            ["schema"] = schema,
            ["schemaExtensions"] = enterprise ? new JsonArray(new JsonObject { ["schema"] = ScimResource.EnterpriseUserSchema, ["required"] = false }) : new JsonArray(),
            ["meta"] = new JsonObject { ["resourceType"] = "ResourceType", ["location"] = baseUrl + "/ResourceTypes/" + name },
        };

        var all = new[] { Type("User", "/Users", ScimResource.UserSchema, true), Type("Group", "/Groups", ScimResource.GroupSchema, false) };
        return Select(all, id, "ResourceType");
    }

    public static JsonNode Schemas(string baseUrl, string? id)
    {
        JsonObject Attr(string name, string type = "string", bool required = false, bool multi = false, string mutability = "readWrite", string uniqueness = "none", bool caseExact = false, JsonArray? sub = null)
        {
            var a = new JsonObject
            {
                ["name"] = name, ["type"] = type, ["multiValued"] = multi, ["required"] = required, ["caseExact"] = caseExact,
                ["mutability"] = mutability, ["returned"] = "default", ["uniqueness"] = uniqueness,
            };
            if (sub is not null)
            {
                a["subAttributes"] = sub;
            }

            return a;
        }

        JsonObject Schema(string urn, string name, params JsonObject[] attributes) => new()
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Schema"),
            ["id"] = urn,
            ["name"] = name,
            ["attributes"] = new JsonArray([.. attributes]),
            ["meta"] = new JsonObject { ["resourceType"] = "Schema", ["location"] = baseUrl + "/Schemas/" + urn },
        };

        var all = new[]
        {
            Schema(ScimResource.UserSchema, "User",
                Attr("userName", required: true, uniqueness: "server"),
                Attr("name", "complex", sub: new JsonArray(Attr("formatted"), Attr("familyName"), Attr("givenName"))),
                Attr("displayName"),
                Attr("active", "boolean"),
                Attr("emails", "complex", multi: true, sub: new JsonArray(Attr("value"), Attr("type"), Attr("primary", "boolean"))),
                Attr("groups", "complex", multi: true, mutability: "readOnly", sub: new JsonArray(Attr("value", mutability: "readOnly"), Attr("display", mutability: "readOnly")))),
            Schema(ScimResource.GroupSchema, "Group",
                Attr("displayName", required: true, uniqueness: "server"),
                Attr("members", "complex", multi: true, sub: new JsonArray(Attr("value", mutability: "immutable"), Attr("display", mutability: "immutable")))),
            Schema(ScimResource.EnterpriseUserSchema, "EnterpriseUser",
                Attr("employeeNumber"), Attr("department"), Attr("organization"), Attr("division"), Attr("costCenter"),
                Attr("manager", "complex", sub: new JsonArray(Attr("value"), Attr("displayName", mutability: "readOnly")))),
        };
        return Select(all, id, "Schema");
    }

    private static JsonNode Select(JsonObject[] all, string? id, string what)
    {
        if (id is not null)
        {
            var one = Array.Find(all, x => string.Equals(x["id"]!.GetValue<string>(), id, StringComparison.OrdinalIgnoreCase));
            return one ?? throw ScimException.NotFound($"{what} '{id}' not found.");
        }

        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimResource.ListResponseSchema),
            ["totalResults"] = all.Length,
            ["startIndex"] = 1,
            ["itemsPerPage"] = all.Length,
            ["Resources"] = new JsonArray([.. all]),
        };
    }
}
