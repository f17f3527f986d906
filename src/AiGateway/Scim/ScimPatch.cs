using System.Text.Json.Nodes;

namespace AiGateway.Scim;

/// <summary>
/// RFC 7644 §3.5.2 PATCH over a resource's JSON: <c>add</c>, <c>replace</c>, <c>remove</c> (any case), with paths
/// <c>attr</c>, <c>attr.sub</c>, <c>urn:…:attr</c>, <c>attr[sub eq "v"]</c>, <c>attr[sub eq "v"].sub</c>, and without a
/// path (value object whose keys may themselves be paths, as Entra sends <c>"name.givenName"</c>).
/// </summary>
internal static class ScimPatch
{
    public static void Apply(JsonObject resource, JsonObject patch)
    {
        if (ScimResource.Get(patch, "Operations") is not JsonArray operations || operations.Count == 0)
        {
            throw ScimException.InvalidSyntax("A PatchOp needs a non-empty 'Operations' array.");
        }

        foreach (var node in operations)
        {
            if (node is not JsonObject operation)
            {
                throw ScimException.InvalidSyntax("Each operation must be an object.");
            }

            var op = (ScimResource.Get(operation, "op") as JsonValue)?.TryGetValue<string>(out var s) == true ? s.ToLowerInvariant() : null;
            var path = (ScimResource.Get(operation, "path") as JsonValue)?.TryGetValue<string>(out var p) == true ? p : null;
            var value = ScimResource.Get(operation, "value")?.DeepClone();
            switch (op)
            {
                case "add" or "replace" when path is null:
                    if (value is not JsonObject values)
                    {
                        throw ScimException.InvalidValue($"'{op}' without a path needs an object value.");
                    }

                    foreach (var (key, item) in values)
                    {
                        if (key.ToLowerInvariant() is "id" or "meta" or "schemas")
                        {
                            continue; // clients echo read-only attributes in value objects; they are not changes
                        }

                        if (IsSchemaUrn(key) && item is JsonObject extension)
                        {
                            foreach (var (subKey, subValue) in extension)
                            {
                                ApplyPath(resource, op, key + ":" + subKey, subValue?.DeepClone());
                            }
                        }
                        else
                        {
                            ApplyPath(resource, op, key, item?.DeepClone());
                        }
                    }

                    break;
                case "add" or "replace":
                    ApplyPath(resource, op, path!, value);
                    break;
                case "remove" when path is null:
                    throw ScimException.NoTarget("'remove' needs a path.");
                case "remove":
                    ApplyPath(resource, op, path!, value);
                    break;
                default:
                    throw ScimException.InvalidSyntax($"'{op}' is not a PATCH operation. Use add, replace or remove.");
            }
        }
    }

    private static bool IsSchemaUrn(string key) => key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase);

    /// <summary>A parsed attribute path.</summary>
    internal sealed record AttributePath(string? Extension, string Attribute, string? FilterAttribute, string? FilterValue, string? SubAttribute);

    internal static AttributePath Parse(string path)
    {
        path = path.Trim();
        string? extension = null;
        if (IsSchemaUrn(path))
        {
            var known = Array.Find(ScimResource.KnownSchemas, urn => path.StartsWith(urn + ":", StringComparison.OrdinalIgnoreCase) || string.Equals(path, urn, StringComparison.OrdinalIgnoreCase));
            string urnPart;
            if (known is not null)
            {
                urnPart = known;
            }
            else
            {
                var bracket = path.IndexOf('[', StringComparison.Ordinal);
                var last = (bracket < 0 ? path : path[..bracket]).LastIndexOf(':');
                urnPart = path[..last];
            }

            if (path.Length == urnPart.Length)
            {
                throw ScimException.InvalidPath($"The path '{path}' names a schema, not an attribute.");
            }

            path = path[(urnPart.Length + 1)..];
            if (!string.Equals(urnPart, ScimResource.UserSchema, StringComparison.OrdinalIgnoreCase) && !string.Equals(urnPart, ScimResource.GroupSchema, StringComparison.OrdinalIgnoreCase))
            {
                extension = ScimResource.Canonical(urnPart);
            }
        }

        string attribute;
        string? filterAttribute = null, filterValue = null, sub = null;
        var open = path.IndexOf('[', StringComparison.Ordinal);
        if (open >= 0)
        {
            var close = path.IndexOf(']', open);
            if (close < 0)
            {
                throw ScimException.InvalidPath($"The path '{path}' has an unclosed '['.");
            }

            attribute = path[..open];
            (filterAttribute, filterValue) = ParseEq(path[(open + 1)..close]);
            var rest = path[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != '.' || rest.Length == 1)
                {
                    throw ScimException.InvalidPath($"The path '{path}' is not a SCIM attribute path.");
                }

                sub = rest[1..];
            }
        }
        else
        {
            var dot = path.IndexOf('.', StringComparison.Ordinal);
            attribute = dot < 0 ? path : path[..dot];
            sub = dot < 0 ? null : path[(dot + 1)..];
        }

        if (attribute.Length == 0 || !IsName(attribute) || (sub is not null && !IsName(sub)))
        {
            throw ScimException.InvalidPath($"The path '{path}' is not a SCIM attribute path.");
        }

        return new AttributePath(extension, attribute, filterAttribute, filterValue, sub);
    }

    /// <summary><c>attr eq "value"</c> (the value filter real provisioning clients send).</summary>
    internal static (string Attribute, string Value) ParseEq(string filter)
    {
        var parts = filter.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || !IsName(parts[0]))
        {
            throw ScimException.InvalidFilter($"'{filter}' is not a supported filter (attribute eq \"value\").");
        }

        if (!string.Equals(parts[1], "eq", StringComparison.OrdinalIgnoreCase))
        {
            throw ScimException.InvalidFilter($"The operator '{parts[1]}' is not supported; use eq.");
        }

        var value = parts[2].Trim();
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            value = System.Text.Json.JsonSerializer.Deserialize<string>(value) ?? string.Empty;
        }
        else if (value.Contains('"', StringComparison.Ordinal))
        {
            throw ScimException.InvalidFilter($"The filter value {value} is not a quoted string.");
        }

        return (parts[0], value);
    }

    private static bool IsName(string name)
    {
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-' and not '$')
            {
                return false;
            }
        }

        return true;
    }

    private static void ApplyPath(JsonObject resource, string op, string pathText, JsonNode? value)
    {
        var path = Parse(pathText);
        if (string.Equals(path.Attribute, "id", StringComparison.OrdinalIgnoreCase) || string.Equals(path.Attribute, "meta", StringComparison.OrdinalIgnoreCase))
        {
            throw ScimException.Mutability($"'{path.Attribute}' is read-only.");
        }

        var container = resource;
        if (path.Extension is not null)
        {
            if (ScimResource.Get(resource, path.Extension) is JsonObject existing)
            {
                container = existing;
            }
            else if (op == "remove")
            {
                return;
            }
            else
            {
                container = [];
                ScimResource.Set(resource, path.Extension, container);
            }
        }

        if (op != "remove" && value is null)
        {
            throw ScimException.InvalidValue($"'{op}' of '{pathText}' needs a value.");
        }

        if (path.FilterAttribute is not null)
        {
            ApplyFiltered(container, op, path, value, pathText);
            return;
        }

        var current = ScimResource.Get(container, path.Attribute);
        if (path.SubAttribute is not null)
        {
            if (current is JsonArray)
            {
                throw ScimException.InvalidPath($"'{path.Attribute}' is multi-valued: select an element with a filter, e.g. {path.Attribute}[type eq \"work\"].{path.SubAttribute}.");
            }

            if (current is not JsonObject complex)
            {
                if (op == "remove")
                {
                    return;
                }

                complex = [];
                ScimResource.Set(container, path.Attribute, complex);
            }

            if (op == "remove")
            {
                ScimResource.Remove(complex, path.SubAttribute);
            }
            else
            {
                ScimResource.Set(complex, path.SubAttribute, value);
            }

            return;
        }

        switch (op)
        {
            case "remove" when current is JsonArray array && value is JsonArray removals:
                // Entra removes group members with path "members" and the members to drop as the value.
                foreach (var removal in removals)
                {
                    var key = removal is JsonObject r ? ScimResource.Get(r, "value")?.ToString() : removal?.ToString();
                    for (var i = array.Count - 1; i >= 0; i--)
                    {
                        if (array[i] is JsonObject element && ScimResource.Get(element, "value")?.ToString() == key)
                        {
                            array.RemoveAt(i);
                        }
                    }
                }

                break;
            case "remove":
                ScimResource.Remove(container, path.Attribute);
                break;
            case "add" when current is JsonArray array:
                foreach (var item in value is JsonArray items ? items.ToList() : [value])
                {
                    var copy = item?.DeepClone();
                    var key = copy is JsonObject o ? ScimResource.Get(o, "value")?.ToString() : null;
                    if (key is not null && array.Any(e => e is JsonObject eo && ScimResource.Get(eo, "value")?.ToString() == key))
                    {
                        continue; // adding an existing member is not an error (RFC 7644 §3.5.2.1)
                    }

                    array.Add(copy);
                }

                break;
            case "add" when current is JsonObject complex && value is JsonObject additions:
                foreach (var (k, v) in additions)
                {
                    ScimResource.Set(complex, k, v?.DeepClone());
                }

                break;
            case "add" when value is not JsonArray && IsMultiValued(path.Attribute):
                ScimResource.Set(container, path.Attribute, new JsonArray(value));
                break;
            default:
                ScimResource.Set(container, path.Attribute, value);
                break;
        }
    }

    private static bool IsMultiValued(string attribute) =>
        attribute.ToLowerInvariant() is "members" or "emails" or "phonenumbers" or "addresses" or "roles" or "entitlements" or "ims" or "photos";

    private static void ApplyFiltered(JsonObject container, string op, AttributePath path, JsonNode? value, string pathText)
    {
        var array = ScimResource.Get(container, path.Attribute) as JsonArray;
        var matches = new List<JsonObject>();
        if (array is not null)
        {
            foreach (var item in array)
            {
                if (item is JsonObject element && string.Equals(ScimResource.Get(element, path.FilterAttribute!)?.ToString(), path.FilterValue, StringComparison.Ordinal))
                {
                    matches.Add(element);
                }
            }
        }

        if (op == "remove")
        {
            foreach (var match in matches)
            {
                if (path.SubAttribute is null)
                {
                    array!.Remove(match);
                }
                else
                {
                    ScimResource.Remove(match, path.SubAttribute);
                }
            }

            return;
        }

        if (matches.Count == 0)
        {
            // Entra adds "emails[type eq \"work\"].value" for a user that has no work email yet: create the element.
            if (array is null)
            {
                array = [];
                ScimResource.Set(container, path.Attribute, array);
            }

            var element = new JsonObject { [ScimResource.Canonical(path.FilterAttribute!)] = path.FilterValue };
            array.Add(element);
            matches.Add(element);
        }

        foreach (var match in matches)
        {
            if (path.SubAttribute is not null)
            {
                ScimResource.Set(match, path.SubAttribute, value?.DeepClone());
            }
            else if (value is JsonObject fields)
            {
                foreach (var (k, v) in fields)
                {
                    ScimResource.Set(match, k, v?.DeepClone());
                }
            }
            else
            {
                throw ScimException.InvalidValue($"'{pathText}' selects complex values: give an object value or a sub-attribute.");
            }
        }
    }
}
