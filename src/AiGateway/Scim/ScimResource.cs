using System.Text.Json;
using System.Text.Json.Nodes;

namespace AiGateway.Scim;

/// <summary>SCIM resource JSON: schema URNs, attribute-name normalisation, and the coercions real clients need.</summary>
internal static class ScimResource
{
    public const string UserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string GroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string EnterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string ListResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    public static readonly string[] KnownSchemas = [UserSchema, GroupSchema, EnterpriseUserSchema];

    // Attribute names are case-insensitive (RFC 7643 §2.1); stored under their canonical spelling.
    private static readonly string[] s_canonicalNames =
    [
        "schemas", "externalId", "userName", "name", "displayName", "nickName", "profileUrl", "title", "userType",
        "preferredLanguage", "locale", "timezone", "active", "password", "emails", "phoneNumbers", "ims", "photos",
        "addresses", "entitlements", "roles", "x509Certificates", "members", "formatted", "familyName", "givenName",
        "middleName", "honorificPrefix", "honorificSuffix", "value", "display", "type", "primary", "employeeNumber",
        "costCenter", "organization", "division", "department", "manager",
    ];

    private static readonly JsonNodeOptions s_nodeOptions = new() { PropertyNameCaseInsensitive = false };

    public static JsonObject ParseObject(ReadOnlySpan<byte> body)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, s_nodeOptions, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            throw ScimException.InvalidSyntax($"The request body is not valid JSON ({ex.Message.Split('.')[0]}).");
        }

        return node as JsonObject ?? throw ScimException.InvalidSyntax("The request body must be a JSON object.");
    }

    public static string Canonical(string name)
    {
        foreach (var known in s_canonicalNames)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        foreach (var urn in KnownSchemas)
        {
            if (string.Equals(urn, name, StringComparison.OrdinalIgnoreCase))
            {
                return urn;
            }
        }

        return name;
    }

    /// <summary>The property of <paramref name="obj"/> named <paramref name="name"/>, ignoring case.</summary>
    public static string? FindKey(JsonObject obj, string name)
    {
        if (obj.ContainsKey(name))
        {
            return name;
        }

        foreach (var (key, _) in obj)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }

    public static JsonNode? Get(JsonObject obj, string name) => FindKey(obj, name) is { } key ? obj[key] : null;

    public static void Set(JsonObject obj, string name, JsonNode? value)
    {
        if (FindKey(obj, name) is { } key)
        {
            obj.Remove(key);
        }

        obj[Canonical(name)] = value;
    }

    public static bool Remove(JsonObject obj, string name) => FindKey(obj, name) is { } key && obj.Remove(key);

    /// <summary>Reads a top-level string attribute of stored resource JSON.</summary>
    public static string? ReadString(string json, string name)
    {
        using var doc = JsonDocument.Parse(json);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
            {
                return property.Value.GetString();
            }
        }

        return null;
    }

    /// <summary>
    /// Makes a client-sent user acceptable: drops read-only attributes, canonicalises names recursively, turns Entra's
    /// <c>"active": "False"</c> into a boolean, lists the schemas used and checks <c>userName</c>.
    /// </summary>
    public static (string UserName, string? ExternalId, bool Active) NormalizeUser(JsonObject user)
    {
        Remove(user, "id");
        Remove(user, "meta");
        Remove(user, "groups");
        Remove(user, "password"); // never stored: the gateway does not authenticate users with passwords
        CanonicalizeNames(user);
        var active = true;
        if (user["active"] is { } activeNode)
        {
            active = ToBoolean(activeNode, "active");
            user["active"] = active;
        }

        var userName = RequireString(user, "userName");
        var externalId = OptionalString(user, "externalId");
        SetSchemas(user, UserSchema, user.ContainsKey(EnterpriseUserSchema) ? EnterpriseUserSchema : null);
        return (userName, externalId, active);
    }

    public static (string DisplayName, string? ExternalId, List<GroupMember> Members) NormalizeGroup(JsonObject group)
    {
        Remove(group, "id");
        Remove(group, "meta");
        CanonicalizeNames(group);
        var displayName = RequireString(group, "displayName");
        var externalId = OptionalString(group, "externalId");
        var members = new List<GroupMember>();
        if (group["members"] is { } node)
        {
            if (node is not JsonArray array)
            {
                throw ScimException.InvalidValue("'members' must be an array of { \"value\": \"<user id>\" }.");
            }

            foreach (var item in array)
            {
                var value = item is JsonObject m && m["value"] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
                if (value is null)
                {
                    throw ScimException.InvalidValue("Every member needs a string 'value' (the member's id).");
                }

                var display = item!["display"] is JsonValue d && d.TryGetValue<string>(out var ds) ? ds : null;
                if (!members.Exists(x => x.Value == value))
                {
                    members.Add(new GroupMember(value, display));
                }
            }
        }

        group.Remove("members");
        SetSchemas(group, GroupSchema, null);
        return (displayName, externalId, members);
    }

    public static bool ToBoolean(JsonNode node, string name)
    {
        if (node is JsonValue value)
        {
            if (value.TryGetValue<bool>(out var b))
            {
                return b;
            }

            if (value.TryGetValue<string>(out var s) && bool.TryParse(s.Trim(), out b))
            {
                return b; // Entra sends "True"/"False"
            }
        }

        throw ScimException.InvalidValue($"'{name}' must be a boolean.");
    }

    private static string RequireString(JsonObject obj, string name)
    {
        if (obj[name] is JsonValue value && value.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s))
        {
            return s;
        }

        throw ScimException.InvalidValue($"'{name}' is required and must be a non-empty string.");
    }

    private static string? OptionalString(JsonObject obj, string name)
    {
        var node = obj[name];
        if (node is null)
        {
            obj.Remove(name);
            return null;
        }

        if (node is JsonValue value && value.TryGetValue<string>(out var s))
        {
            return s.Length == 0 ? null : s;
        }

        throw ScimException.InvalidValue($"'{name}' must be a string.");
    }

    private static void SetSchemas(JsonObject obj, string core, string? extension)
    {
        var schemas = new JsonArray(core);
        if (extension is not null)
        {
            schemas.Add(extension);
        }

        obj["schemas"] = schemas;
    }

    private static void CanonicalizeNames(JsonObject obj)
    {
        var keys = new List<string>();
        foreach (var (key, _) in obj)
        {
            keys.Add(key);
        }

        foreach (var key in keys)
        {
            var canonical = Canonical(key);
            var value = obj[key];
            if (canonical != key)
            {
                obj.Remove(key);
                obj[canonical] = value;
            }

            switch (value)
            {
                case JsonObject child:
                    CanonicalizeNames(child);
                    break;
                case JsonArray array:
                    foreach (var item in array)
                    {
                        if (item is JsonObject element)
                        {
                            CanonicalizeNames(element);
                        }
                    }

                    break;
            }
        }
    }
}
