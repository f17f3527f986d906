using System.Text;
using AiGateway.Model;
using AiGateway.Parsing;

namespace AiGateway.Tests.Parsing;

public sealed class LlmRequestParserTests
{
    private static readonly ApiEndpoint s_chat = new(ApiDialect.OpenAI, ApiOperation.ChatCompletions, null);
    private static readonly ApiEndpoint s_responses = new(ApiDialect.OpenAI, ApiOperation.Responses, null);
    private static readonly ApiEndpoint s_embeddings = new(ApiDialect.OpenAI, ApiOperation.Embeddings, null);
    private static readonly ApiEndpoint s_messages = new(ApiDialect.Anthropic, ApiOperation.Messages, null);

    private static LlmRequest Parse(string json, ApiEndpoint endpoint)
    {
        var request = LlmRequestParser.Parse(Encoding.UTF8.GetBytes(json), endpoint, out var error);
        Assert.Null(error);
        return Assert.IsType<LlmRequest>(request);
    }

    private static GatewayError Reject(byte[] body, ApiEndpoint endpoint)
    {
        var request = LlmRequestParser.Parse(body, endpoint, out var error);
        Assert.Null(request);
        return Assert.IsType<GatewayError>(error);
    }

    private static GatewayError Reject(string json, ApiEndpoint endpoint) => Reject(Encoding.UTF8.GetBytes(json), endpoint);

    private static List<string> Texts(LlmRequest request) => request.Segments.Select(s => s.Text).ToList();

    [Fact]
    public void Chat_extracts_model_stream_include_usage_and_max_tokens()
    {
        var request = Parse("""{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_tokens":50,"messages":[]}""", s_chat);

        Assert.Equal("gpt-4o", request.Model);
        Assert.True(request.Stream);
        Assert.True(request.StreamIncludeUsage);
        Assert.Equal(50, request.MaxOutputTokens);
    }

    [Theory]
    [InlineData("""{"model":"m","max_completion_tokens":7}""", 7)]
    [InlineData("""{"model":"m","max_output_tokens":9}""", 9)]
    [InlineData("""{"model":"m","max_tokens":null}""", null)]
    [InlineData("""{"model":"m"}""", null)]
    public void Max_output_tokens_come_from_any_of_the_dialect_fields(string json, int? expected)
    {
        Assert.Equal(expected, Parse(json, s_chat).MaxOutputTokens);
    }

    [Theory]
    [InlineData("""{"model":"m","stream":false,"stream_options":{"include_usage":false}}""", false, false)]
    [InlineData("""{"model":"m","stream":null}""", false, false)]
    [InlineData("""{"model":"m","stream_options":{"other":{"include_usage":true},"include_usage":true},"stream":true}""", true, true)]
    [InlineData("""{"model":"m","stream_options":{"other":{"include_usage":true}}}""", false, false)]
    public void Stream_flags_are_read_from_their_own_fields_only(string json, bool stream, bool includeUsage)
    {
        var request = Parse(json, s_chat);

        Assert.Equal(stream, request.Stream);
        Assert.Equal(includeUsage, request.StreamIncludeUsage);
    }

    [Fact]
    public void Chat_string_content_is_a_message_segment_with_its_role_and_index()
    {
        var request = Parse("""{"model":"m","messages":[{"role":"system","content":"Be helpful"},{"content":"Hello there","role":"user"}]}""", s_chat);

        Assert.Equal(
            [new TextSegment(SegmentSource.Message, 0, "system", "Be helpful"), new TextSegment(SegmentSource.Message, 1, "user", "Hello there")],
            request.Segments);
        Assert.Equal("Be helpful".Length + "Hello there".Length, request.TextLength);
    }

    [Fact]
    public void Chat_content_parts_tool_call_arguments_and_tool_descriptions_are_segments()
    {
        const string json = """
            {
              "model": "m",
              "messages": [
                {"role":"user","content":[{"type":"text","text":"Look at this"},{"type":"image_url","image_url":{"url":"https://img.example/a.png","detail":"high"}}]},
                {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
                {"role":"tool","tool_call_id":"call_1","content":"Sunny, 21C"}
              ],
              "tools": [{"type":"function","function":{"name":"get_weather","description":"Gets the weather","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"}}}}}]
            }
            """;

        var request = Parse(json, s_chat);

        Assert.Contains(new TextSegment(SegmentSource.Message, 0, "user", "Look at this"), request.Segments);
        Assert.Contains(new TextSegment(SegmentSource.Message, 1, "assistant", "{\"city\":\"Paris\"}"), request.Segments);
        Assert.Contains(new TextSegment(SegmentSource.Message, 2, "tool", "Sunny, 21C"), request.Segments);
        var tools = request.Segments.Where(s => s.Source == SegmentSource.Tool).Select(s => s.Text).ToList();
        Assert.Contains("Gets the weather", tools);
        Assert.Contains("City name", tools);
        var texts = Texts(request);
        foreach (var identifier in new[] { "user", "assistant", "tool", "text", "image_url", "function", "call_1", "high", "object", "string" })
        {
            Assert.DoesNotContain(identifier, texts);
        }
    }

    [Fact]
    public void Unknown_fields_still_yield_their_strings_so_text_cannot_hide_from_inspection()
    {
        var request = Parse("""{"model":"m","metadata":{"note":"hidden text"},"prompt":["legacy prompt"],"messages":[{"role":"user","content":"x","name":"bob"}]}""", s_chat);

        Assert.Contains(new TextSegment(SegmentSource.Other, -1, null, "hidden text"), request.Segments);
        Assert.Contains(new TextSegment(SegmentSource.Other, -1, null, "legacy prompt"), request.Segments);
        Assert.Contains("bob", Texts(request));
        Assert.DoesNotContain("m", Texts(request));
    }

    [Fact]
    public void Escapes_are_decoded()
    {
        var request = Parse("""{"model":"gpt\u002d4o","messages":[{"role":"user","content":"Caf\u00e9 \"quoted\"\n\ud83d\ude00 \/ \\"}]}""", s_chat);

        Assert.Equal("gpt-4o", request.Model);
        Assert.Equal("Café \"quoted\"\n😀 / \\", Assert.Single(request.Segments).Text);
    }

    [Fact]
    public void Responses_input_string_and_instructions_are_segments()
    {
        var request = Parse("""{"model":"m","instructions":"Answer in French","input":"What is the capital?","max_output_tokens":20}""", s_responses);

        Assert.Contains(new TextSegment(SegmentSource.System, -1, "system", "Answer in French"), request.Segments);
        Assert.Contains(new TextSegment(SegmentSource.Message, 0, "user", "What is the capital?"), request.Segments);
        Assert.Equal(20, request.MaxOutputTokens);
    }

    [Fact]
    public void Responses_input_array_items_are_segments_with_their_roles()
    {
        const string json = """
            {"model":"m","input":[
              {"role":"developer","content":"Be terse"},
              {"role":"user","content":[{"type":"input_text","text":"Sum 2 and 2"}]},
              {"type":"function_call_output","call_id":"c1","output":"4"}
            ]}
            """;

        var request = Parse(json, s_responses);

        Assert.Equal(
            [
                new TextSegment(SegmentSource.Message, 0, "developer", "Be terse"),
                new TextSegment(SegmentSource.Message, 1, "user", "Sum 2 and 2"),
                new TextSegment(SegmentSource.Message, 2, null, "4"),
            ],
            request.Segments);
    }

    [Fact]
    public void Embeddings_input_string_is_one_segment()
    {
        var request = Parse("""{"model":"text-embedding-3-small","input":"embed me"}""", s_embeddings);

        Assert.Equal([new TextSegment(SegmentSource.Message, 0, "user", "embed me")], request.Segments);
    }

    [Fact]
    public void Embeddings_input_array_gives_one_segment_per_item()
    {
        var request = Parse("""{"model":"e","input":["first","second"],"dimensions":8}""", s_embeddings);

        Assert.Equal(["first", "second"], Texts(request));
        Assert.Equal([0, 1], request.Segments.Select(s => s.MessageIndex));
    }

    [Fact]
    public void Anthropic_system_string_is_a_system_segment()
    {
        var request = Parse("""{"model":"claude","max_tokens":64,"system":"You are Claude","messages":[{"role":"user","content":"Hi"}]}""", s_messages);

        Assert.Equal(
            [new TextSegment(SegmentSource.System, -1, "system", "You are Claude"), new TextSegment(SegmentSource.Message, 0, "user", "Hi")],
            request.Segments);
        Assert.Equal(64, request.MaxOutputTokens);
    }

    [Fact]
    public void Anthropic_system_blocks_content_blocks_and_tool_use_input_are_segments()
    {
        const string json = """
            {"model":"claude","max_tokens":64,
             "system":[{"type":"text","text":"Be brief","cache_control":{"type":"ephemeral"}}],
             "messages":[
               {"role":"user","content":[{"type":"text","text":"What is 2+2?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
               {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"calc","input":{"expression":"2+2"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"4"}]}
             ],
             "tools":[{"name":"calc","description":"Evaluates arithmetic","input_schema":{"type":"object"}}]}
            """;

        var request = Parse(json, s_messages);

        Assert.Contains(new TextSegment(SegmentSource.System, -1, "system", "Be brief"), request.Segments);
        Assert.Contains(new TextSegment(SegmentSource.Message, 0, "user", "What is 2+2?"), request.Segments);
        Assert.Contains(new TextSegment(SegmentSource.Message, 1, "assistant", "2+2"), request.Segments);
        Assert.Contains(new TextSegment(SegmentSource.Message, 2, "user", "4"), request.Segments);
        Assert.Contains(new TextSegment(SegmentSource.Tool, -1, null, "Evaluates arithmetic"), request.Segments);
        var texts = Texts(request);
        foreach (var identifier in new[] { "text", "ephemeral", "image", "base64", "image/png", "tool_use", "toolu_1", "tool_result", "object" })
        {
            Assert.DoesNotContain(identifier, texts);
        }
    }

    [Fact]
    public void Azure_dialect_takes_the_model_from_the_path()
    {
        var request = Parse("""{"messages":[{"role":"user","content":"hi"}]}""", new ApiEndpoint(ApiDialect.AzureOpenAI, ApiOperation.ChatCompletions, "my-dep"));

        Assert.Equal("my-dep", request.Model);
        Assert.Equal(default, request.ModelValueRange);
    }

    [Fact]
    public void Model_value_range_covers_the_quoted_model_token()
    {
        const string json = """{ "messages": [], "model" : "gpt-4o" }""";

        var request = Parse(json, s_chat);

        Assert.Equal("\"gpt-4o\"", json[request.ModelValueRange]);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[""", "invalid_json")]
    [InlineData("""{"model":"m",}""", "invalid_json")]
    [InlineData("""{"model":"m"} {"model":"n"}""", "invalid_json")]
    [InlineData("""{"model":"m"} // comment""", "invalid_json")]
    [InlineData("", "invalid_json")]
    [InlineData("[]", "invalid_request")]
    [InlineData("42", "invalid_request")]
    [InlineData("""{"messages":[]}""", "invalid_request")]
    [InlineData("""{"model":"  "}""", "invalid_request")]
    [InlineData("""{"model":["m"]}""", "invalid_request")]
    [InlineData("""{"model":"m","stream":"true"}""", "invalid_request")]
    [InlineData("""{"model":"m","stream":1}""", "invalid_request")]
    [InlineData("""{"model":"m","max_tokens":-1}""", "invalid_request")]
    [InlineData("""{"model":"m","max_tokens":1.5}""", "invalid_request")]
    [InlineData("""{"model":"m","max_tokens":"10"}""", "invalid_request")]
    public void Malformed_bodies_are_rejected_with_a_400(string json, string code)
    {
        var error = Reject(json, s_chat);

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(code, error.Code);
    }

    [Theory]
    [InlineData(65)]
    [InlineData(1000)]
    public void Nesting_deeper_than_64_is_an_error_not_an_exception(int depth)
    {
        var json = """{"model":"m","messages":""" + new string('[', depth) + new string(']', depth) + "}";

        var error = Reject(json, s_chat);

        Assert.Equal("invalid_json", error.Code);
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_accepted()
    {
        var json = """{"model":"m","messages":""" + new string('[', 62) + "\"deep\"" + new string(']', 62) + "}";

        Assert.Equal("deep", Assert.Single(Parse(json, s_chat).Segments).Text);
    }

    public static TheoryData<string> InvalidUtf8Places => new()
    {
        """{"model":"m","messages":[{"role":"user","content":"caf<>"}]}""",
        """{"model":"m<>","messages":[]}""",
        """{"model":"m","messages":[{"role":"us<>er","content":"x"}]}""",
        """{"model":"m","messages":[{"role":"user","type":"t<>","content":"x"}]}""",
        """{"model":"m","metadata":{"k<>":"v"}}""",
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8Places))]
    public void Invalid_utf8_anywhere_is_an_error_not_an_exception(string template)
    {
        var parts = template.Split("<>");
        byte[] body = [.. Encoding.UTF8.GetBytes(parts[0]), 0xC3, 0x28, 0xFF, .. Encoding.UTF8.GetBytes(parts[1])];

        var error = Reject(body, s_chat);

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("invalid_json", error.Code);
    }
}
