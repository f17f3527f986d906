using System.Net;
using System.Text.Json;
using AiGateway.IntegrationTests.Infrastructure;
using static AiGateway.IntegrationTests.Scim.ScimHttp;

namespace AiGateway.IntegrationTests.Scim;

/// <summary>The conformance suite on the embedded (single-node, file-backed) directory.</summary>
public sealed class EmbeddedScimConformanceTests() : ScimConformanceTests(redis: false);

/// <summary>The same suite on the Redis directory shared by replicas (Lua scripts keep indexes and memberships atomic).</summary>
public sealed class RedisScimConformanceTests() : ScimConformanceTests(redis: true);

/// <summary>SCIM 2.0 against the running gateway with the payloads Microsoft Entra provisioning and Okta send (issue #7).</summary>
public abstract class ScimConformanceTests(bool redis) : IAsyncLifetime
{
    private DirectoryScenario _scenario = null!;
    private HttpClient _scim = null!;

    public async Task InitializeAsync()
    {
        _scenario = await DirectoryScenario.StartAsync(redis: redis);
        _scim = _scenario.Scim();
    }

    public async Task DisposeAsync()
    {
        _scim.Dispose();
        await _scenario.DisposeAsync();
    }

    [Fact]
    public async Task Entra_user_create_get_filter_patch_delete()
    {
        // What Entra provisioning sends on create (enterprise extension, externalId = the object id).
        var (created, user) = await PostAsync(_scim, "Users", """
            {
              "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
              "externalId": "0b6c2c4e-1b1f-4c55-9a55-6f1f7c1a0001",
              "userName": "Alex.Wu@agency.gov",
              "active": true,
              "displayName": "Alex Wu",
              "emails": [{ "primary": true, "type": "work", "value": "alex.wu@agency.gov" }],
              "meta": { "resourceType": "User" },
              "name": { "formatted": "Alex Wu", "familyName": "Wu", "givenName": "Alex" },
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "employeeNumber": "701984", "department": "Research" }
            }
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = user.GetProperty("id").GetString()!;
        Assert.Equal(_scim.BaseAddress + "Users/" + id, created.Headers.Location?.ToString());
        Assert.Equal("W/\"1\"", created.Headers.ETag?.ToString());
        Assert.Equal("User", user.GetProperty("meta").GetProperty("resourceType").GetString());
        Assert.Equal("Research", user.GetProperty("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").GetProperty("department").GetString());
        Assert.Contains(user.GetProperty("schemas").EnumerateArray(), s => s.GetString() == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");

        var (got, fetched) = await GetAsync(_scim, "Users/" + id);
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        Assert.Equal("Alex.Wu@agency.gov", fetched.GetProperty("userName").GetString());
        Assert.True(fetched.GetProperty("active").GetBoolean());

        // Entra checks existence by userName (case-insensitive) and by externalId.
        var (_, byName) = await GetAsync(_scim, "Users?filter=" + Uri.EscapeDataString("userName eq \"alex.wu@agency.gov\""));
        Assert.Equal(1, byName.GetProperty("totalResults").GetInt32());
        Assert.Equal(id, byName.GetProperty("Resources")[0].GetProperty("id").GetString());
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:ListResponse", byName.GetProperty("schemas")[0].GetString());
        var (_, byExternal) = await GetAsync(_scim, "Users?filter=" + Uri.EscapeDataString("externalId eq \"0b6c2c4e-1b1f-4c55-9a55-6f1f7c1a0001\""));
        Assert.Equal(1, byExternal.GetProperty("totalResults").GetInt32());
        var (_, none) = await GetAsync(_scim, "Users?filter=" + Uri.EscapeDataString("userName eq \"nobody@agency.gov\""));
        Assert.Equal(0, none.GetProperty("totalResults").GetInt32());
        Assert.Equal(0, none.GetProperty("Resources").GetArrayLength());

        // Entra's PATCH: capitalised ops, "active" as the string "False", filtered email path, extension path, and a path-less value object.
        var (patched, afterPatch) = await PatchAsync(_scim, "Users/" + id, """
            [
              { "op": "Replace", "path": "active", "value": "False" },
              { "op": "Add", "path": "emails[type eq \"work\"].value", "value": "alex.wu2@agency.gov" },
              { "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100" },
              { "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Operations" },
              { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": { "value": "mgr-1" } },
              { "op": "Replace", "value": { "name.givenName": "Alexandra", "displayName": "Alexandra Wu" } }
            ]
            """);
        Assert.True(patched.StatusCode == HttpStatusCode.OK, afterPatch.ToString());
        Assert.False(afterPatch.GetProperty("active").GetBoolean());
        Assert.Equal(JsonValueKind.False, afterPatch.GetProperty("active").ValueKind);
        Assert.Equal("alex.wu2@agency.gov", afterPatch.GetProperty("emails")[0].GetProperty("value").GetString());
        Assert.Equal(1, afterPatch.GetProperty("emails").GetArrayLength());
        Assert.Equal("mobile", afterPatch.GetProperty("phoneNumbers")[0].GetProperty("type").GetString());
        var enterprise = afterPatch.GetProperty("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
        Assert.Equal("Operations", enterprise.GetProperty("department").GetString());
        Assert.Equal("701984", enterprise.GetProperty("employeeNumber").GetString());
        Assert.Equal("mgr-1", enterprise.GetProperty("manager").GetProperty("value").GetString());
        Assert.Equal("Alexandra", afterPatch.GetProperty("name").GetProperty("givenName").GetString());
        Assert.Equal("Wu", afterPatch.GetProperty("name").GetProperty("familyName").GetString());
        Assert.Equal("Alexandra Wu", afterPatch.GetProperty("displayName").GetString());
        Assert.Equal("W/\"2\"", patched.Headers.ETag?.ToString());

        var (deleted, _) = await SendAsync(_scim, HttpMethod.Delete, "Users/" + id);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var (gone, goneBody) = await GetAsync(_scim, "Users/" + id);
        AssertError(gone, goneBody, 404, null);
    }

    [Fact]
    public async Task Okta_user_deactivate_replace_and_group_membership()
    {
        var (created, user) = await PostAsync(_scim, "Users", """
            {
              "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
              "userName": "jordan.lee@agency.gov",
              "name": { "givenName": "Jordan", "familyName": "Lee" },
              "emails": [{ "primary": true, "value": "jordan.lee@agency.gov", "type": "work" }],
              "displayName": "Jordan Lee",
              "locale": "en-US",
              "externalId": "00u1abcd",
              "groups": [],
              "password": "not-stored-1!",
              "active": true
            }
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.False(user.TryGetProperty("password", out _));
        var id = user.GetProperty("id").GetString()!;

        // Okta deactivates with a path-less replace.
        var (deactivated, body) = await PatchAsync(_scim, "Users/" + id, """[{ "op": "replace", "value": { "active": false } }]""");
        Assert.Equal(HttpStatusCode.OK, deactivated.StatusCode);
        Assert.False(body.GetProperty("active").GetBoolean());

        // Okta updates profiles with PUT of the whole user.
        var (replaced, replacedBody) = await SendAsync(_scim, HttpMethod.Put, "Users/" + id, """
            {
              "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
              "id": "ignored-by-server",
              "userName": "jordan.lee@agency.gov",
              "name": { "givenName": "Jordan", "familyName": "Lee-Smith" },
              "active": true
            }
            """);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal(id, replacedBody.GetProperty("id").GetString());
        Assert.Equal("Lee-Smith", replacedBody.GetProperty("name").GetProperty("familyName").GetString());
        Assert.False(replacedBody.TryGetProperty("emails", out _));

        var other = await CreateUserAsync(_scim, "sam.ortiz@agency.gov", "00u2efgh");
        var (groupCreated, group) = await PostAsync(_scim, "Groups", $$"""
            { "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "AI Engineers", "members": [{ "value": "{{id}}", "display": "jordan.lee@agency.gov" }] }
            """);
        Assert.Equal(HttpStatusCode.Created, groupCreated.StatusCode);
        var groupId = group.GetProperty("id").GetString()!;
        Assert.Single(group.GetProperty("members").EnumerateArray());

        // Okta: add members, then remove one with a value filter in the path.
        var (added, afterAdd) = await PatchAsync(_scim, "Groups/" + groupId, $$"""[{ "op": "add", "path": "members", "value": [{ "value": "{{other}}", "display": "sam.ortiz@agency.gov" }] }]""");
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Equal(2, afterAdd.GetProperty("members").GetArrayLength());
        var (removed, afterRemove) = await PatchAsync(_scim, "Groups/" + groupId, $$"""[{ "op": "remove", "path": "members[value eq \"{{id}}\"]" }]""");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(other, Assert.Single(afterRemove.GetProperty("members").EnumerateArray()).GetProperty("value").GetString());

        // The user's read-only groups attribute follows memberships.
        var (_, otherUser) = await GetAsync(_scim, "Users/" + other);
        Assert.Equal(groupId, Assert.Single(otherUser.GetProperty("groups").EnumerateArray()).GetProperty("value").GetString());

        // Entra: remove with path "members" and the members as value; a path-less replace echoing the (read-only) id.
        var (entraRemove, afterEntra) = await PatchAsync(_scim, "Groups/" + groupId, $$"""
            [{ "op": "Remove", "path": "members", "value": [{ "value": "{{other}}" }] }, { "op": "Replace", "value": { "id": "{{groupId}}", "displayName": "AI Engineers" } }]
            """);
        Assert.Equal(HttpStatusCode.OK, entraRemove.StatusCode);
        Assert.Equal(0, afterEntra.GetProperty("members").GetArrayLength());

        // Entra looks groups up by displayName without members.
        var (_, found) = await GetAsync(_scim, "Groups?excludedAttributes=members&filter=" + Uri.EscapeDataString("displayName eq \"ai engineers\""));
        Assert.Equal(1, found.GetProperty("totalResults").GetInt32());
        Assert.False(found.GetProperty("Resources")[0].TryGetProperty("members", out _));

        await PatchAsync(_scim, "Groups/" + groupId, $$"""[{ "op": "add", "path": "members", "value": [{ "value": "{{id}}" }] }]""");
        var (_, membership) = await GetAsync(_scim, "Groups?filter=" + Uri.EscapeDataString($"id eq \"{groupId}\" and members[value eq \"{id}\"]"));
        Assert.Equal(1, membership.GetProperty("totalResults").GetInt32());
        var (_, notMember) = await GetAsync(_scim, "Groups?filter=" + Uri.EscapeDataString($"id eq \"{groupId}\" and members[value eq \"{other}\"]"));
        Assert.Equal(0, notMember.GetProperty("totalResults").GetInt32());

        var (groupDeleted, _) = await SendAsync(_scim, HttpMethod.Delete, "Groups/" + groupId);
        Assert.Equal(HttpStatusCode.NoContent, groupDeleted.StatusCode);
        var (groupGone, goneBody) = await GetAsync(_scim, "Groups/" + groupId);
        AssertError(groupGone, goneBody, 404, null);
    }

    [Fact]
    public async Task Lists_page_with_startIndex_and_count()
    {
        for (var i = 0; i < 5; i++)
        {
            await CreateUserAsync(_scim, $"page{i}@agency.gov");
        }

        var (_, page) = await GetAsync(_scim, "Users?startIndex=2&count=2");
        Assert.Equal(5, page.GetProperty("totalResults").GetInt32());
        Assert.Equal(2, page.GetProperty("startIndex").GetInt32());
        Assert.Equal(2, page.GetProperty("itemsPerPage").GetInt32());
        Assert.Equal("page1@agency.gov,page2@agency.gov", string.Join(",", page.GetProperty("Resources").EnumerateArray().Select(r => r.GetProperty("userName").GetString())));

        var (_, past) = await GetAsync(_scim, "Users?startIndex=6");
        Assert.Equal(5, past.GetProperty("totalResults").GetInt32());
        Assert.Equal(0, past.GetProperty("Resources").GetArrayLength());

        var (_, countOnly) = await GetAsync(_scim, "Users?count=0");
        Assert.Equal(5, countOnly.GetProperty("totalResults").GetInt32());
        Assert.Equal(0, countOnly.GetProperty("itemsPerPage").GetInt32());
    }

    [Fact]
    public async Task Bad_payloads_get_scim_errors_with_scimType()
    {
        var (r, b) = await PostAsync(_scim, "Users", "{ not json");
        AssertError(r, b, 400, "invalidSyntax");

        (r, b) = await PostAsync(_scim, "Users", """{ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "No user name" }""");
        AssertError(r, b, 400, "invalidValue");

        (r, b) = await PostAsync(_scim, "Users", """{ "userName": "maybe@agency.gov", "active": "maybe" }""");
        AssertError(r, b, 400, "invalidValue");

        var id = await CreateUserAsync(_scim, "dup@agency.gov", "ext-dup");
        (r, b) = await PostAsync(_scim, "Users", """{ "userName": "DUP@agency.gov" }""");
        AssertError(r, b, 409, "uniqueness");
        (r, b) = await PostAsync(_scim, "Users", """{ "userName": "other@agency.gov", "externalId": "ext-dup" }""");
        AssertError(r, b, 409, "uniqueness");

        await CreateGroupAsync(_scim, "Dup Group");
        (r, b) = await PostAsync(_scim, "Groups", """{ "displayName": "dup group" }""");
        AssertError(r, b, 409, "uniqueness");
        (r, b) = await PostAsync(_scim, "Groups", """{ "displayName": "Bad members", "members": [{ "display": "no value" }] }""");
        AssertError(r, b, 400, "invalidValue");

        (r, b) = await GetAsync(_scim, "Users?filter=" + Uri.EscapeDataString("title eq \"Boss\""));
        AssertError(r, b, 400, "invalidFilter");
        (r, b) = await GetAsync(_scim, "Users?filter=" + Uri.EscapeDataString("userName sw \"d\""));
        AssertError(r, b, 400, "invalidFilter");

        (r, b) = await PatchAsync(_scim, "Users/" + id, """[{ "op": "frobnicate", "path": "active", "value": false }]""");
        AssertError(r, b, 400, "invalidSyntax");
        (r, b) = await PatchAsync(_scim, "Users/" + id, """[{ "op": "remove" }]""");
        AssertError(r, b, 400, "noTarget");
        (r, b) = await PatchAsync(_scim, "Users/" + id, """[{ "op": "replace", "path": "emails[type eq \"work\"", "value": "x" }]""");
        AssertError(r, b, 400, "invalidPath");
        (r, b) = await PatchAsync(_scim, "Users/" + id, """[{ "op": "replace", "path": "id", "value": "mine" }]""");
        AssertError(r, b, 400, "mutability");
        (r, b) = await SendAsync(_scim, HttpMethod.Patch, "Users/" + id, """{ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"] }""");
        AssertError(r, b, 400, "invalidSyntax");

        (r, b) = await PatchAsync(_scim, "Users/does-not-exist", """[{ "op": "replace", "path": "active", "value": false }]""");
        AssertError(r, b, 404, null);
        (r, b) = await SendAsync(_scim, HttpMethod.Delete, "Groups/does-not-exist");
        AssertError(r, b, 404, null);
        (r, b) = await GetAsync(_scim, "Widgets");
        AssertError(r, b, 404, null);

        // Weak ETags: a stale If-Match is refused and changes nothing.
        (r, b) = await SendAsync(_scim, HttpMethod.Put, "Users/" + id, """{ "userName": "dup@agency.gov", "active": false }""", [("If-Match", "W/\"7\"")]);
        AssertError(r, b, 412, "invalidVers");
        (r, b) = await SendAsync(_scim, HttpMethod.Put, "Users/" + id, """{ "userName": "dup@agency.gov", "active": false }""", [("If-Match", "W/\"1\"")]);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.False(b.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Missing_or_wrong_credential_is_401()
    {
        using var anonymous = new HttpClient { BaseAddress = _scim.BaseAddress };
        var (r, b) = await GetAsync(anonymous, "Users");
        AssertError(r, b, 401, null);
        Assert.Equal("Bearer", Assert.Single(r.Headers.WwwAuthenticate).Scheme);

        using var wrong = _scenario.Scim(secret: _scenario.Secret.Secret + "x");
        (r, b) = await PostAsync(wrong, "Users", """{ "userName": "intruder@agency.gov" }""");
        AssertError(r, b, 401, null);

        // A valid user token of the agency is not a provisioning credential.
        using var user = _scenario.Scim(secret: _scenario.Issuer.Token().Roles("engineer").Build());
        (r, b) = await GetAsync(user, "Users");
        AssertError(r, b, 401, null);

        // Nothing was created by the refused calls.
        var (_, list) = await GetAsync(_scim, "Users");
        Assert.Equal(0, list.GetProperty("totalResults").GetInt32());

        using var otherAgency = new HttpClient { BaseAddress = new Uri(_scenario.Gateway.BaseAddress, "scim/v2/beta/") };
        otherAgency.DefaultRequestHeaders.Authorization = new("Bearer", _scenario.Secret.Secret);
        (r, b) = await GetAsync(otherAgency, "Users");
        AssertError(r, b, 401, null);
    }

    [Fact]
    public async Task Discovery_endpoints_describe_the_service_provider()
    {
        var (r, config) = await GetAsync(_scim, "ServiceProviderConfig");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/scim+json", r.Content.Headers.ContentType?.MediaType);
        Assert.True(config.GetProperty("patch").GetProperty("supported").GetBoolean());
        Assert.True(config.GetProperty("filter").GetProperty("supported").GetBoolean());
        Assert.True(config.GetProperty("etag").GetProperty("supported").GetBoolean());
        Assert.False(config.GetProperty("bulk").GetProperty("supported").GetBoolean());
        Assert.Equal("oauthbearertoken", config.GetProperty("authenticationSchemes")[0].GetProperty("type").GetString());

        var (_, schemas) = await GetAsync(_scim, "Schemas");
        Assert.Equal(3, schemas.GetProperty("totalResults").GetInt32());
        var (one, user) = await GetAsync(_scim, "Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Contains(user.GetProperty("attributes").EnumerateArray(), a => a.GetProperty("name").GetString() == "userName");

        var (_, types) = await GetAsync(_scim, "ResourceTypes");
        Assert.Equal("User,Group", string.Join(",", types.GetProperty("Resources").EnumerateArray().Select(t => t.GetProperty("id").GetString())));
        Assert.Equal("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", types.GetProperty("Resources")[0].GetProperty("schemaExtensions")[0].GetProperty("schema").GetString());
    }
}
