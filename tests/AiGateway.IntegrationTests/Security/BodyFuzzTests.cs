using System.Net;
using System.Text;
using AiGateway.IntegrationTests.Infrastructure;
using LlmSimulator;

namespace AiGateway.IntegrationTests.Security;

/// <summary>
/// Mutated request bodies through the real gateway (seeded, so a failure replays): every answer is a 2xx or a clean
/// 4xx/5xx error object from the gateway or the upstream, never a 500, and the gateway keeps serving. The parser's
/// own property tests (CsCheck) are in AiGateway.Tests/Security/ParserFuzzTests.
/// </summary>
[Collection(Faults.LoadCollection.Name)]
public sealed class BodyFuzzTests
{
    private static readonly string[] s_seeds =
    [
        """{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"max_tokens":20,"messages":[{"role":"system","content":"Be brief"},{"role":"user","content":[{"type":"text","text":"Hello"}]}]}""",
        """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"CUI hello"},{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}]}""",
        """{"model":"claude-3-5-haiku","max_tokens":20,"system":"s","messages":[{"role":"user","content":"hi"}]}""",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Mutated_bodies_never_get_a_500_and_the_gateway_keeps_serving(int seed)
    {
        await using var simulator = await SimulatorServer.StartAsync();
        await using var s = await GatewayScenario.StartAsync(ConfigJson.Gateway(simulator.BaseAddress), role: "engineer");
        var random = new Random(seed);
        for (var i = 0; i < 150; i++)
        {
            var source = s_seeds[random.Next(s_seeds.Length)];
            var body = Mutate(Encoding.UTF8.GetBytes(source), random);
            var path = source.Contains("claude", StringComparison.Ordinal) ? "v1/messages" : "v1/chat/completions";
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
            using var response = await s.Client.SendAsync(request);
            string text;
            try
            {
                text = await response.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException)
            {
                text = "(stream cut)";
            }

            Assert.True(response.StatusCode != HttpStatusCode.InternalServerError, $"seed {seed} #{i}: 500 for {Encoding.UTF8.GetString(body)}: {text}");
            if ((int)response.StatusCode >= 400)
            {
                Assert.Contains("\"error\"", text, StringComparison.Ordinal);
            }
        }

        using var ok = await s.PostAsync("v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var body = new List<byte>(seed);
        var count = random.Next(1, 6);
        for (var m = 0; m < count && body.Count > 0; m++)
        {
            var at = random.Next(body.Count);
            switch (random.Next(6))
            {
                case 0: body[at] = (byte)random.Next(256); break;
                case 1: body.Insert(at, (byte)"{}[]\",:\\0e-"[random.Next(11)]); break;
                case 2: body.RemoveAt(at); break;
                case 3: body.RemoveRange(at, body.Count - at); break;
                case 4: body.InsertRange(at, Encoding.UTF8.GetBytes(new[] { "\\ud800", "\\u0000", "SECRET//NOFORN", "[[[[[[[[", "1e400", "\"stream\":true," }[random.Next(6)])); break;
                default:
                    var length = Math.Min(body.Count - at, random.Next(1, 20));
                    body.InsertRange(at, body.GetRange(at, length));
                    break;
            }
        }

        return [.. body];
    }
}
