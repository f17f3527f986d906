using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.Configuration;
using AiGateway.Model;

namespace AiGateway.Scim;

/// <summary>
/// The SCIM 2.0 service provider of each agency at <c>/scim/v2/{agency}/…</c> (RFC 7643/7644): Users and Groups
/// (create, get, filter, page, replace, patch, delete, weak ETags with If-Match), ServiceProviderConfig, Schemas and
/// ResourceTypes. Authenticated with the agency's provisioning secret only (never a user token).
/// </summary>
internal sealed partial class ScimEndpoints
{
    public const string ContentType = "application/scim+json";
    public const int MaxBodyBytes = 1024 * 1024;
    private const int DefaultCount = 100;
    private const int MaxCount = 1000;

    private static readonly JsonSerializerOptions s_write = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IDirectoryStore _store;
    private readonly ScimCredentials _credentials;
    private readonly TimeProvider _time;
    private readonly ILogger<ScimEndpoints> _logger;

    public ScimEndpoints(IDirectoryStore store, ScimCredentials credentials, TimeProvider time, ILogger<ScimEndpoints> logger)
    {
        _store = store;
        _credentials = credentials;
        _time = time;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var feature = context.GetGatewayFeature();
        var agencyName = context.Request.RouteValues["agency"] as string ?? string.Empty;
        if (!feature.Config.Agencies.TryGetValue(agencyName, out var agency) || !agency.Governance.ScimEnabled
            || !_credentials.Verify(agency, context.Request.Headers.Authorization.ToString()))
        {
            feature.DenialCode = "scim_unauthorized";
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"aigateway-scim\"";
            await new ScimException(401, null, "The SCIM provisioning credential of this agency is required (Authorization: Bearer <secret>).").WriteAsync(context);
            return;
        }

        try
        {
            await DispatchAsync(context, agency);
        }
        catch (ScimException ex)
        {
            feature.DenialCode = ex.ScimType ?? "scim_" + ex.Status.ToString(CultureInfo.InvariantCulture);
            await ex.WriteAsync(context);
        }
        catch (DirectoryUnavailableException ex)
        {
            Log.DirectoryUnavailable(_logger, ex);
            feature.DenialCode = "directory_unavailable";
            await new ScimException(503, null, "The directory store is unavailable; retry later.").WriteAsync(context);
        }
    }

    private Task DispatchAsync(HttpContext context, AgencyPolicy agency)
    {
        var rest = (context.Request.RouteValues["rest"] as string ?? string.Empty).Trim('/');
        var parts = rest.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = context.Request.Method;
        var resource = parts.Length > 0 ? parts[0] : string.Empty;
        var id = parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : null;
        if (parts.Length is 0 or > 2)
        {
            throw ScimException.NotFound($"'{rest}' is not a SCIM endpoint.");
        }

        return (resource, id, method) switch
        {
            ("Users", null, "GET") => ListUsersAsync(context, agency),
            ("Users", null, "POST") => CreateUserAsync(context, agency),
            ("Users", not null, "GET") => GetUserAsync(context, agency, id),
            ("Users", not null, "PUT") => ReplaceUserAsync(context, agency, id, patch: false),
            ("Users", not null, "PATCH") => ReplaceUserAsync(context, agency, id, patch: true),
            ("Users", not null, "DELETE") => DeleteUserAsync(context, agency, id),
            ("Groups", null, "GET") => ListGroupsAsync(context, agency),
            ("Groups", null, "POST") => CreateGroupAsync(context, agency),
            ("Groups", not null, "GET") => GetGroupAsync(context, agency, id),
            ("Groups", not null, "PUT") => ReplaceGroupAsync(context, agency, id, patch: false),
            ("Groups", not null, "PATCH") => ReplaceGroupAsync(context, agency, id, patch: true),
            ("Groups", not null, "DELETE") => DeleteGroupAsync(context, agency, id),
            ("ServiceProviderConfig", null, "GET") => WriteAsync(context, 200, ScimDiscovery.ServiceProviderConfig(Base(context, agency))),
            ("Schemas", _, "GET") => WriteAsync(context, 200, ScimDiscovery.Schemas(Base(context, agency), id)),
            ("ResourceTypes", _, "GET") => WriteAsync(context, 200, ScimDiscovery.ResourceTypes(Base(context, agency), id)),
            ("Users" or "Groups" or "ServiceProviderConfig" or "Schemas" or "ResourceTypes", _, _) => throw new ScimException(405, null, $"{method} is not supported on this endpoint."),
            _ => throw ScimException.NotFound($"'{resource}' is not a SCIM resource type of this service provider."),
        };
    }

    // ---- Users ----

    private async Task CreateUserAsync(HttpContext context, AgencyPolicy agency)
    {
        var body = await ReadBodyAsync(context);
        var (userName, externalId, active) = ScimResource.NormalizeUser(body);
        var now = _time.GetUtcNow();
        var user = new DirectoryUser(Guid.NewGuid().ToString("D"), userName, externalId, active, body.ToJsonString(), 0, now, now);
        var result = await _store.PutUserAsync(agency.Name, user, create: true, null, context.RequestAborted);
        Check(result, "User", user.Id);
        user = user with { Version = result.Version, Created = result.Created == default ? now : result.Created };
        Log.Change(_logger, agency.Name, "created user", user.Id);
        context.Response.Headers.Location = Base(context, agency) + "/Users/" + user.Id;
        await WriteAsync(context, 201, UserJson(context, agency, user, []), user.Version);
    }

    private async Task GetUserAsync(HttpContext context, AgencyPolicy agency, string id)
    {
        var user = await _store.GetUserAsync(agency.Name, id, context.RequestAborted) ?? throw ScimException.NotFound($"User {id} not found.");
        var groups = await _store.GroupsOfUserAsync(agency.Name, id, context.RequestAborted);
        await WriteAsync(context, 200, UserJson(context, agency, user, groups), user.Version);
    }

    private async Task ReplaceUserAsync(HttpContext context, AgencyPolicy agency, string id, bool patch)
    {
        var body = await ReadBodyAsync(context);
        var ifMatch = IfMatch(context);
        for (var attempt = 0; ; attempt++)
        {
            var existing = await _store.GetUserAsync(agency.Name, id, context.RequestAborted) ?? throw ScimException.NotFound($"User {id} not found.");
            if (ifMatch is { } wanted && wanted != existing.Version)
            {
                throw ScimException.PreconditionFailed();
            }

            JsonObject updated;
            if (patch)
            {
                updated = (JsonObject)JsonNode.Parse(existing.Json)!;
                ScimPatch.Apply(updated, (JsonObject)body.DeepClone());
            }
            else
            {
                updated = (JsonObject)body.DeepClone();
            }

            var (userName, externalId, active) = ScimResource.NormalizeUser(updated);
            var user = existing with { UserName = userName, ExternalId = externalId, Active = active, Json = updated.ToJsonString(), LastModified = _time.GetUtcNow() };
            var result = await _store.PutUserAsync(agency.Name, user, create: false, existing.Version, context.RequestAborted);
            if (result.Status == WriteStatus.VersionMismatch && ifMatch is null && attempt < 3)
            {
                continue; // a concurrent change: apply the patch to the newer version
            }

            Check(result, "User", id);
            user = user with { Version = result.Version };
            if (existing.Active && !user.Active)
            {
                await DeprovisionedAsync(agency, "deactivated", existing.UserName, "active set to false through SCIM", context.RequestAborted);
            }

            Log.Change(_logger, agency.Name, patch ? "patched user" : "replaced user", id);
            var groups = await _store.GroupsOfUserAsync(agency.Name, id, context.RequestAborted);
            await WriteAsync(context, 200, UserJson(context, agency, user, groups), user.Version);
            return;
        }
    }

    private async Task DeleteUserAsync(HttpContext context, AgencyPolicy agency, string id)
    {
        var existing = await _store.GetUserAsync(agency.Name, id, context.RequestAborted) ?? throw ScimException.NotFound($"User {id} not found.");
        var result = await _store.DeleteUserAsync(agency.Name, id, IfMatch(context), context.RequestAborted);
        Check(result, "User", id);
        await DeprovisionedAsync(agency, "deleted", existing.UserName, "user deleted through SCIM", context.RequestAborted);
        Log.Change(_logger, agency.Name, "deleted user", id);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task ListUsersAsync(HttpContext context, AgencyPolicy agency)
    {
        var terms = ParseFilter(context.Request.Query["filter"].ToString(), ["userName", "externalId", "id", "displayName"], members: false);
        IReadOnlyList<DirectoryUser> candidates;
        var indexed = terms.Find(t => t.Attribute is "userName" or "externalId" or "id");
        if (indexed.Attribute is not null)
        {
            var id = indexed.Attribute == "id" ? indexed.Value
                : await _store.FindUserIdAsync(agency.Name, indexed.Attribute == "userName" ? LookupKey.UserName : LookupKey.ExternalId, indexed.Value, context.RequestAborted);
            var user = id is null ? null : await _store.GetUserAsync(agency.Name, id, context.RequestAborted);
            candidates = user is null ? [] : [user];
        }
        else
        {
            candidates = await _store.ListUsersAsync(agency.Name, context.RequestAborted);
        }

        var matches = new List<DirectoryUser>();
        foreach (var user in candidates)
        {
            if (terms.TrueForAll(t => UserMatches(user, t)))
            {
                matches.Add(user);
            }
        }

        var (start, count) = Paging(context);
        var page = new List<JsonObject>();
        for (var i = start - 1; i < matches.Count && page.Count < count; i++)
        {
            page.Add(UserJson(context, agency, matches[i], null));
        }

        await WriteAsync(context, 200, ListResponse(matches.Count, start, page));
    }

    private static bool UserMatches(DirectoryUser user, FilterTerm term) => term.Attribute switch
    {
        "userName" => string.Equals(user.UserName, term.Value, StringComparison.OrdinalIgnoreCase),
        "externalId" => string.Equals(user.ExternalId, term.Value, StringComparison.Ordinal),
        "id" => string.Equals(user.Id, term.Value, StringComparison.Ordinal),
        "displayName" => string.Equals(ScimResource.ReadString(user.Json, "displayName"), term.Value, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    private static JsonObject UserJson(HttpContext context, AgencyPolicy agency, DirectoryUser user, IReadOnlyList<GroupRef>? groups)
    {
        var stored = (JsonObject)JsonNode.Parse(user.Json)!;
        var result = new JsonObject { ["schemas"] = stored["schemas"]?.DeepClone() ?? new JsonArray(ScimResource.UserSchema), ["id"] = user.Id };
        foreach (var (key, value) in stored)
        {
            if (key != "schemas")
            {
                result[key] = value?.DeepClone();
            }
        }

        result["active"] = user.Active;
        if (groups is not null)
        {
            var array = new JsonArray();
            foreach (var g in groups)
            {
                array.Add(new JsonObject { ["value"] = g.Id, ["display"] = g.DisplayName, ["$ref"] = Base(context, agency) + "/Groups/" + g.Id, ["type"] = "direct" });
            }

            result["groups"] = array;
        }

        result["meta"] = Meta("User", Base(context, agency) + "/Users/" + user.Id, user.Created, user.LastModified, user.Version);
        return result;
    }

    // ---- Groups ----

    private async Task CreateGroupAsync(HttpContext context, AgencyPolicy agency)
    {
        var body = await ReadBodyAsync(context);
        var (displayName, externalId, members) = ScimResource.NormalizeGroup(body);
        var now = _time.GetUtcNow();
        var group = new DirectoryGroup(Guid.NewGuid().ToString("D"), displayName, externalId, members, body.ToJsonString(), 0, now, now);
        var result = await _store.PutGroupAsync(agency.Name, group, create: true, null, context.RequestAborted);
        Check(result, "Group", group.Id);
        group = group with { Version = result.Version };
        Log.Change(_logger, agency.Name, "created group", group.Id);
        context.Response.Headers.Location = Base(context, agency) + "/Groups/" + group.Id;
        await WriteAsync(context, 201, GroupJson(context, agency, group, includeMembers: true), group.Version);
    }

    private async Task GetGroupAsync(HttpContext context, AgencyPolicy agency, string id)
    {
        var group = await _store.GetGroupAsync(agency.Name, id, context.RequestAborted) ?? throw ScimException.NotFound($"Group {id} not found.");
        await WriteAsync(context, 200, GroupJson(context, agency, group, IncludeMembers(context)), group.Version);
    }

    private async Task ReplaceGroupAsync(HttpContext context, AgencyPolicy agency, string id, bool patch)
    {
        var body = await ReadBodyAsync(context);
        var ifMatch = IfMatch(context);
        for (var attempt = 0; ; attempt++)
        {
            var existing = await _store.GetGroupAsync(agency.Name, id, context.RequestAborted) ?? throw ScimException.NotFound($"Group {id} not found.");
            if (ifMatch is { } wanted && wanted != existing.Version)
            {
                throw ScimException.PreconditionFailed();
            }

            JsonObject updated;
            if (patch)
            {
                updated = (JsonObject)JsonNode.Parse(existing.Json)!;
                var members = new JsonArray();
                foreach (var m in existing.Members)
                {
                    members.Add(m.Display is null ? new JsonObject { ["value"] = m.Value } : new JsonObject { ["value"] = m.Value, ["display"] = m.Display });
                }

                updated["members"] = members;
                ScimPatch.Apply(updated, (JsonObject)body.DeepClone());
            }
            else
            {
                updated = (JsonObject)body.DeepClone();
            }

            var (displayName, externalId, newMembers) = ScimResource.NormalizeGroup(updated);
            var group = existing with { DisplayName = displayName, ExternalId = externalId, Members = newMembers, Json = updated.ToJsonString(), LastModified = _time.GetUtcNow() };
            var result = await _store.PutGroupAsync(agency.Name, group, create: false, existing.Version, context.RequestAborted);
            if (result.Status == WriteStatus.VersionMismatch && ifMatch is null && attempt < 3)
            {
                continue;
            }

            Check(result, "Group", id);
            group = group with { Version = result.Version };
            foreach (var removed in existing.Members)
            {
                if (!newMembers.Exists(m => m.Value == removed.Value))
                {
                    var user = await _store.GetUserAsync(agency.Name, removed.Value, context.RequestAborted);
                    await DeprovisionedAsync(agency, "removed-from-group", user?.UserName ?? removed.Value, $"removed from group '{displayName}'", context.RequestAborted);
                }
            }

            Log.Change(_logger, agency.Name, patch ? "patched group" : "replaced group", id);
            await WriteAsync(context, 200, GroupJson(context, agency, group, IncludeMembers(context)), group.Version);
            return;
        }
    }

    private async Task DeleteGroupAsync(HttpContext context, AgencyPolicy agency, string id)
    {
        var existing = await _store.GetGroupAsync(agency.Name, id, context.RequestAborted) ?? throw ScimException.NotFound($"Group {id} not found.");
        var result = await _store.DeleteGroupAsync(agency.Name, id, IfMatch(context), context.RequestAborted);
        Check(result, "Group", id);
        if (existing.Members.Count > 0)
        {
            await DeprovisionedAsync(agency, "group-deleted", existing.DisplayName, $"group deleted with {existing.Members.Count} member(s)", context.RequestAborted);
        }

        Log.Change(_logger, agency.Name, "deleted group", id);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task ListGroupsAsync(HttpContext context, AgencyPolicy agency)
    {
        var terms = ParseFilter(context.Request.Query["filter"].ToString(), ["displayName", "externalId", "id"], members: true);
        IReadOnlyList<DirectoryGroup> candidates;
        var indexed = terms.Find(t => t.Attribute is "displayName" or "externalId" or "id");
        if (indexed.Attribute is not null)
        {
            var id = indexed.Attribute == "id" ? indexed.Value
                : await _store.FindGroupIdAsync(agency.Name, indexed.Attribute == "displayName" ? LookupKey.DisplayName : LookupKey.ExternalId, indexed.Value, context.RequestAborted);
            var group = id is null ? null : await _store.GetGroupAsync(agency.Name, id, context.RequestAborted);
            candidates = group is null ? [] : [group];
        }
        else
        {
            candidates = await _store.ListGroupsAsync(agency.Name, context.RequestAborted);
        }

        var matches = new List<DirectoryGroup>();
        foreach (var group in candidates)
        {
            if (terms.TrueForAll(t => t.Attribute switch
            {
                "displayName" => string.Equals(group.DisplayName, t.Value, StringComparison.OrdinalIgnoreCase),
                "externalId" => string.Equals(group.ExternalId, t.Value, StringComparison.Ordinal),
                "id" => string.Equals(group.Id, t.Value, StringComparison.Ordinal),
                "members.value" => group.Members.Any(m => m.Value == t.Value),
                _ => false,
            }))
            {
                matches.Add(group);
            }
        }

        var (start, count) = Paging(context);
        var include = IncludeMembers(context);
        var page = new List<JsonObject>();
        for (var i = start - 1; i < matches.Count && page.Count < count; i++)
        {
            page.Add(GroupJson(context, agency, matches[i], include));
        }

        await WriteAsync(context, 200, ListResponse(matches.Count, start, page));
    }

    private static JsonObject GroupJson(HttpContext context, AgencyPolicy agency, DirectoryGroup group, bool includeMembers)
    {
        var stored = (JsonObject)JsonNode.Parse(group.Json)!;
        var result = new JsonObject { ["schemas"] = new JsonArray(ScimResource.GroupSchema), ["id"] = group.Id };
        foreach (var (key, value) in stored)
        {
            if (key != "schemas")
            {
                result[key] = value?.DeepClone();
            }
        }

        if (includeMembers)
        {
            var members = new JsonArray();
            foreach (var m in group.Members)
            {
                var member = new JsonObject { ["value"] = m.Value, ["$ref"] = Base(context, agency) + "/Users/" + m.Value, ["type"] = "User" };
                if (m.Display is not null)
                {
                    member["display"] = m.Display;
                }

                members.Add(member);
            }

            result["members"] = members;
        }

        result["meta"] = Meta("Group", Base(context, agency) + "/Groups/" + group.Id, group.Created, group.LastModified, group.Version);
        return result;
    }

    /// <summary>Entra asks for groups with <c>excludedAttributes=members</c>; <c>attributes=</c> without members also leaves them out.</summary>
    private static bool IncludeMembers(HttpContext context)
    {
        var excluded = context.Request.Query["excludedAttributes"].ToString();
        if (excluded.Split(',').Any(a => string.Equals(a.Trim(), "members", StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        var attributes = context.Request.Query["attributes"].ToString();
        return attributes.Length == 0 || attributes.Split(',').Any(a => string.Equals(a.Trim(), "members", StringComparison.OrdinalIgnoreCase));
    }

    // ---- Shared ----

    private readonly record struct FilterTerm(string Attribute, string Value);

    /// <summary><c>a eq "v" [and b eq "w"]…</c>, plus <c>members[value eq "id"]</c> for groups. Anything else is <c>invalidFilter</c>.</summary>
    private static List<FilterTerm> ParseFilter(string filter, string[] attributes, bool members)
    {
        var terms = new List<FilterTerm>();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return terms;
        }

        foreach (var part in SplitAnd(filter))
        {
            var text = part.Trim();
            if (members && text.StartsWith("members[", StringComparison.OrdinalIgnoreCase) && text.EndsWith(']'))
            {
                var (attribute, value) = ScimPatch.ParseEq(text[8..^1]);
                if (!string.Equals(attribute, "value", StringComparison.OrdinalIgnoreCase))
                {
                    throw ScimException.InvalidFilter("Only members[value eq \"…\"] is supported.");
                }

                terms.Add(new FilterTerm("members.value", value));
                continue;
            }

            var (name, v) = ScimPatch.ParseEq(text);
            var known = Array.Find(attributes, a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase))
                ?? throw ScimException.InvalidFilter($"Filtering on '{name}' is not supported. Supported: {string.Join(", ", attributes)} (eq).");
            terms.Add(new FilterTerm(known, v));
        }

        return terms;
    }

    private static IEnumerable<string> SplitAnd(string filter)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < filter.Length; i++)
        {
            if (filter[i] == '"' && (i == 0 || filter[i - 1] != '\\'))
            {
                quoted = !quoted;
            }
            else if (!quoted && i + 5 <= filter.Length && string.Compare(filter, i, " and ", 0, 5, StringComparison.OrdinalIgnoreCase) == 0)
            {
                yield return filter[start..i];
                start = i + 5;
                i += 4;
            }
            else if (!quoted && i + 4 <= filter.Length && string.Compare(filter, i, " or ", 0, 4, StringComparison.OrdinalIgnoreCase) == 0)
            {
                throw ScimException.InvalidFilter("'or' filters are not supported.");
            }
        }

        yield return filter[start..];
    }

    private static (int Start, int Count) Paging(HttpContext context)
    {
        var start = int.TryParse(context.Request.Query["startIndex"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? Math.Max(1, s) : 1;
        var count = int.TryParse(context.Request.Query["count"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? Math.Clamp(c, 0, MaxCount) : DefaultCount;
        return (start, count);
    }

    private static JsonObject ListResponse(int total, int start, List<JsonObject> page)
    {
        var resources = new JsonArray();
        foreach (var item in page)
        {
            resources.Add(item);
        }

        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimResource.ListResponseSchema),
            ["totalResults"] = total,
            ["startIndex"] = start,
            ["itemsPerPage"] = page.Count,
            ["Resources"] = resources,
        };
    }

    private static JsonObject Meta(string type, string location, DateTimeOffset created, DateTimeOffset modified, long version) => new()
    {
        ["resourceType"] = type,
        ["created"] = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["lastModified"] = modified.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["location"] = location,
        ["version"] = ETag(version),
    };

    private static string ETag(long version) => $"W/\"{version.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>The version an If-Match header names (<c>W/"3"</c> or <c>"3"</c>); null for none or <c>*</c>.</summary>
    private static long? IfMatch(HttpContext context)
    {
        var header = context.Request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*")
        {
            return null;
        }

        var text = header.StartsWith("W/", StringComparison.Ordinal) ? header[2..] : header;
        return long.TryParse(text.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw ScimException.PreconditionFailed();
    }

    private static void Check(WriteResult result, string type, string id)
    {
        switch (result.Status)
        {
            case WriteStatus.Ok:
                return;
            case WriteStatus.NotFound:
                throw ScimException.NotFound($"{type} {id} not found.");
            case WriteStatus.VersionMismatch:
                throw ScimException.PreconditionFailed();
            default:
                throw ScimException.Uniqueness($"Another {type.ToLowerInvariant()} already has this {result.ConflictAttribute ?? "value"}.");
        }
    }

    private async Task DeprovisionedAsync(AgencyPolicy agency, string kind, string subject, string detail, CancellationToken cancel)
    {
        Log.Deprovisioned(_logger, agency.Name, kind);
        await _store.AppendEventAsync(agency.Name, EventStream.Deprovisioning, new GovernanceEvent(_time.GetUtcNow(), kind, subject, detail), cancel);
    }

    private static async Task<JsonObject> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            throw new ScimException(413, null, $"The request body exceeds {MaxBodyBytes} bytes.");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                throw new ScimException(413, null, $"The request body exceeds {MaxBodyBytes} bytes.");
            }
        }

        return ScimResource.ParseObject(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    internal static string Base(HttpContext context, AgencyPolicy agency) =>
        $"{context.Request.Scheme}://{context.Request.Host}/scim/v2/{Uri.EscapeDataString(agency.Name)}";

    private static async Task WriteAsync(HttpContext context, int status, JsonNode body, long? version = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        if (version is { } v)
        {
            context.Response.Headers.ETag = ETag(v);
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, s_write);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ScimChange, LogLevel.Information, "SCIM {Agency}: {Change} {Id}.", EventName = "ScimChange")]
        public static partial void Change(ILogger logger, string agency, string change, string id);

        [LoggerMessage(EventIds.CallerDeprovisioned, LogLevel.Information, "SCIM {Agency}: deprovisioning ({Kind}).", EventName = "CallerDeprovisioned")]
        public static partial void Deprovisioned(ILogger logger, string agency, string kind);

        [LoggerMessage(EventIds.DirectoryUnavailable, LogLevel.Warning, "The directory store is unavailable.", EventName = "DirectoryUnavailable")]
        public static partial void DirectoryUnavailable(ILogger logger, Exception exception);
    }
}
