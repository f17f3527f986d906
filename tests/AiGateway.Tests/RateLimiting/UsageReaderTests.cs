using System.Text;
using AiGateway.RateLimiting;

namespace AiGateway.Tests.RateLimiting;

public sealed class UsageReaderTests
{
    private static bool Read(UsageReader reader, string json) => reader.Read(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void OpenAI_chat_usage_with_cached_and_reasoning_tokens()
    {
        var reader = new UsageReader(anthropic: false);
        Assert.True(Read(reader, """{"id":"x","usage":{"prompt_tokens":100,"completion_tokens":40,"total_tokens":140,"prompt_tokens_details":{"cached_tokens":30},"completion_tokens_details":{"reasoning_tokens":12}}}"""));

        var usage = reader.Usage;
        Assert.Equal(100, usage.PromptTokens);
        Assert.Equal(40, usage.CompletionTokens);
        Assert.Equal(30, usage.CachedPromptTokens);
        Assert.Equal(12, usage.ReasoningTokens);
        Assert.Equal(140, usage.TotalTokens);
    }

    [Fact]
    public void Streamed_chunk_with_null_usage_is_not_usage()
    {
        var reader = new UsageReader(anthropic: false);
        Assert.False(Read(reader, """{"choices":[{"delta":{"content":"hi"}}],"usage":null}"""));
        Assert.False(reader.HasUsage);
    }

    [Fact]
    public void Responses_api_completed_event_usage()
    {
        var reader = new UsageReader(anthropic: false);
        Assert.True(Read(reader, """{"type":"response.completed","response":{"usage":{"input_tokens":20,"output_tokens":7,"total_tokens":27,"input_tokens_details":{"cached_tokens":4},"output_tokens_details":{"reasoning_tokens":2}}}}"""));
        Assert.Equal(new AiGateway.Model.TokenUsage(20, 7, 4, 0, 2), reader.Usage);
    }

    [Fact]
    public void Anthropic_stream_counts_cache_tokens_as_input_and_takes_the_final_output()
    {
        var reader = new UsageReader(anthropic: true);
        Read(reader, """{"type":"message_start","message":{"id":"m","usage":{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":50,"cache_creation_input_tokens":5}}}""");
        Read(reader, """{"type":"content_block_delta","delta":{"type":"text_delta","text":"usage"}}""");
        Read(reader, """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":33}}""");

        var usage = reader.Usage;
        Assert.Equal(65, usage.PromptTokens);
        Assert.Equal(33, usage.CompletionTokens);
        Assert.Equal(50, usage.CachedPromptTokens);
        Assert.Equal(5, usage.CacheCreationTokens);
    }

    [Fact]
    public void Malformed_data_yields_no_usage_and_no_exception()
    {
        var reader = new UsageReader(anthropic: false);
        Assert.False(Read(reader, """{"usage":{"prompt_tokens":"""));
        Assert.False(reader.HasUsage);
    }
}
