using System.Text;
using AiGateway.Model;
using AiGateway.Parsing;
using CsCheck;

namespace AiGateway.Tests.Security;

/// <summary>
/// The request parser on hostile input (CsCheck): random JSON built from the request shapes, byte-level mutations of
/// valid bodies, deep nesting, huge arrays and tokens. Property: it always answers — a request or a 4xx error —
/// never throws, and finishes (each sample is bounded; the whole run has a deadline).
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly ApiEndpoint[] s_endpoints =
    [
        new(ApiDialect.OpenAI, ApiOperation.ChatCompletions, null),
        new(ApiDialect.OpenAI, ApiOperation.Responses, null),
        new(ApiDialect.OpenAI, ApiOperation.Embeddings, null),
        new(ApiDialect.Anthropic, ApiOperation.Messages, null),
        ApiEndpoint.Classify("/openai/deployments/gpt-4o/chat/completions"),
    ];

    private static readonly string[] s_seeds =
    [
        """{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"max_tokens":50,"messages":[{"role":"system","content":"Be brief"},{"role":"user","content":[{"type":"text","text":"Hello \u00e9\ud83d\ude00"},{"type":"image_url","image_url":{"url":"data:x"}}]},{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}]}""",
        """{"model":"claude-3-5-haiku","max_tokens":200,"system":[{"type":"text","text":"sys"}],"messages":[{"role":"user","content":"CUI//SP-PRVCY hi"}]}""",
        """{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"x"}]}],"instructions":"i","max_output_tokens":10}""",
        """{"model":"text-embedding-3-small","input":["a","b",[1,2,3]],"dimensions":8}""",
    ];

    // Strings that stress the decoder and the segment extraction: escapes, surrogates (paired and lone), controls.
    private static readonly Gen<string> s_text = Gen.OneOf(
        Gen.String,
        Gen.Char.Array[0, 64].Select(c => new string(c)),
        Gen.OneOf("\\u0000", "\\ud800", "\\udc00\\ud800", "\\\"", "\\\\", "\\n", "\u200b", "TOP SECRET//SCI", "\\u0043UI", "é", "😀"))
        .Array[0, 6].Select(parts => string.Concat(parts));

    private static Gen<string> JsonValue(int depth) => depth <= 0
        ? Gen.OneOf(s_text.Select(Quote), Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Gen.OneOf("true", "false", "null", "1e999", "-0", "0.5"))
        : Gen.Frequency(
            (4, JsonValue(0)),
            (1, JsonValue(depth - 1).Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(Gen.OneOf(Gen.OneOf("model", "messages", "content", "role", "text", "input", "system", "stream", "max_tokens", "tools", "type", "arguments"), s_text), JsonValue(depth - 1))
                .Array[0, 5].Select(props => "{" + string.Join(",", props.Select(p => Quote(p.Item1) + ":" + p.Item2)) + "}")));

    // A request-shaped object whose fields hold random values of random types.
    private static readonly Gen<string> s_requestShaped =
        Gen.Select(JsonValue(0), JsonValue(3), JsonValue(2), JsonValue(1))
            .Select((model, messages, extra, stream) => $$"""{"model":{{model}},"messages":{{messages}},"input":{{extra}},"stream":{{stream}},"system":{{extra}}}""");

    private static string Quote(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    private static void AssertAnswers(byte[] body, ApiEndpoint endpoint)
    {
        var request = LlmRequestParser.Parse(body, endpoint, out var error);
        Assert.True(request is null != (error is null), "exactly one of request and error");
        if (error is not null)
        {
            Assert.InRange(error.StatusCode, 400, 499);
            Assert.False(string.IsNullOrEmpty(error.Message));
        }
    }

    private static Task WithDeadline(Action property) => Task.Run(property).WaitAsync(TimeSpan.FromMinutes(3));

    [Fact]
    public Task Random_request_shaped_json_is_answered_without_exception() => WithDeadline(() =>
        Gen.Select(s_requestShaped, Gen.Int[0, s_endpoints.Length - 1]).Sample((json, e) => AssertAnswers(Encoding.UTF8.GetBytes(json), s_endpoints[e]), iter: 3000));

    [Fact]
    public Task Byte_mutations_of_valid_bodies_are_answered_without_exception() => WithDeadline(() =>
    {
        var mutation = Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Byte);
        Gen.Select(Gen.Int[0, s_seeds.Length - 1], Gen.Int[0, s_endpoints.Length - 1], mutation.Array[1, 8]).Sample((seed, e, mutations) =>
        {
            var body = new List<byte>(Encoding.UTF8.GetBytes(s_seeds[seed]));
            foreach (var (kind, at, value) in mutations)
            {
                var i = at % Math.Max(1, body.Count);
                switch (kind)
                {
                    case 0 when body.Count > 0: body[i] = value; break;                  // overwrite (invalid UTF-8 included)
                    case 1: body.Insert(i, value); break;                                // insert
                    case 2 when body.Count > 0: body.RemoveAt(i); break;                 // delete
                    case 3: body.RemoveRange(i, body.Count - i); break;                  // truncate
                }
            }

            AssertAnswers([.. body], s_endpoints[e]);
        }, iter: 5000);
    });

    [Fact]
    public Task Random_bytes_are_answered_without_exception() => WithDeadline(() =>
        Gen.Select(Gen.Byte.Array[0, 512], Gen.Int[0, s_endpoints.Length - 1]).Sample((bytes, e) => AssertAnswers(bytes, s_endpoints[e]), iter: 3000));

    [Theory]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(100_000)]
    public void Absurd_nesting_is_a_clean_400_or_parsed_never_a_stack_overflow(int depth)
    {
        var body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"extra\":" + new string('[', depth) + new string(']', depth) + "}]}";
        foreach (var endpoint in s_endpoints)
        {
            AssertAnswers(Encoding.UTF8.GetBytes(body), endpoint);
        }

        var deep = LlmRequestParser.Parse(Encoding.UTF8.GetBytes(body), s_endpoints[0], out var error);
        if (depth > 64)
        {
            Assert.Null(deep);
            Assert.Equal(400, error!.StatusCode);
        }
    }

    [Fact]
    public void Ten_thousand_messages_are_parsed_into_ten_thousand_segments()
    {
        var body = new StringBuilder("{\"model\":\"gpt-4o-mini\",\"messages\":[");
        for (var i = 0; i < 10_000; i++)
        {
            body.Append(i == 0 ? "" : ",").Append("{\"role\":\"user\",\"content\":\"m").Append(i).Append("\"}");
        }

        body.Append("]}");
        var request = LlmRequestParser.Parse(Encoding.UTF8.GetBytes(body.ToString()), s_endpoints[0], out var error);
        Assert.Null(error);
        Assert.Equal(10_000, request!.Segments.Count(s => s.Text.StartsWith('m')));
    }

    [Fact]
    public void A_one_million_character_token_is_one_segment_and_escapes_are_decoded()
    {
        var token = new string('A', 1_000_000);
        var body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"\\u0043" + token + "\"}]}";
        var request = LlmRequestParser.Parse(Encoding.UTF8.GetBytes(body), s_endpoints[0], out var error);
        Assert.Null(error);
        Assert.Contains(request!.Segments, s => s.Text.Length == 1_000_001 && s.Text[0] == 'C');
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0x80 })]             // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]       // UTF-8 encoded surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xE2, 0x82 })]             // truncated sequence
    public void Invalid_utf8_anywhere_is_a_400(byte[] bad)
    {
        foreach (var place in new[] { "model", "content", "name" })
        {
            var prefix = Encoding.UTF8.GetBytes(place switch
            {
                "model" => "{\"model\":\"gpt",
                "content" => "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"a",
                _ => "{\"model\":\"gpt-4o-mini\",\"x",
            });
            var suffix = Encoding.UTF8.GetBytes(place switch
            {
                "model" => "\",\"messages\":[]}",
                "content" => "\"}]}",
                _ => "\":1,\"messages\":[]}",
            });
            var request = LlmRequestParser.Parse([.. prefix, .. bad, .. suffix], s_endpoints[0], out var error);
            Assert.Null(request);
            Assert.Equal(400, error!.StatusCode);
        }
    }
}
