using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AiGateway.IntegrationTests.Infrastructure;

/// <summary>Raw HTTP calls to the gateway in each dialect, for tests that assert status codes, headers and error shapes.</summary>
public static class GatewayCalls
{
    /// <summary>POST /v1/chat/completions (OpenAI dialect) with an optional bearer token.</summary>
    public static Task<HttpResponseMessage> ChatAsync(TestGateway gateway, string? token, string model = "gpt-4o-mini")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseAddress, "v1/chat/completions"))
        {
            Content = new StringContent($$"""{"model":{{ConfigJson.Quote(model)}},"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"),
        };
        return SendAsync(request, token);
    }

    /// <summary>POST /v1/messages (Anthropic dialect) with an optional bearer token.</summary>
    public static Task<HttpResponseMessage> AnthropicMessagesAsync(TestGateway gateway, string? token, string model = "claude-3-5-haiku")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseAddress, "v1/messages"))
        {
            Content = new StringContent($$"""{"model":{{ConfigJson.Quote(model)}},"max_tokens":32,"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");
        return SendAsync(request, token);
    }

    /// <summary>GET /v1/models and the ids it lists (asserts 200).</summary>
    public static async Task<List<string>> ListModelIdsAsync(TestGateway gateway, string token)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseAddress, "v1/models")), token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /v1/models answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        var ids = new List<string>();
        foreach (var item in json.RootElement.GetProperty("data").EnumerateArray())
        {
            ids.Add(item.GetProperty("id").GetString()!);
        }

        return ids;
    }

    /// <summary>The OpenAI error object <c>{"error":{...}}</c> of a response; fails the test when the shape differs.</summary>
    public static async Task<JsonElement> ReadOpenAIErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        Assert.False(json.RootElement.TryGetProperty("type", out _), $"OpenAI errors have no top-level type: {body}");
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("code").ValueKind);
        return error.Clone();
    }

    /// <summary>The Anthropic error object of <c>{"type":"error","error":{...}}</c>; fails the test when the shape differs.</summary>
    public static async Task<JsonElement> ReadAnthropicErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        return error.Clone();
    }

    /// <summary>Asserts a 401 with a Bearer <c>invalid_token</c> challenge.</summary>
    public static void AssertInvalidTokenChallenge(HttpResponseMessage response)
    {
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"invalid_token\"", challenge.Parameter, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string? token)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using (request)
        {
            return await client.SendAsync(request);
        }
    }
}
