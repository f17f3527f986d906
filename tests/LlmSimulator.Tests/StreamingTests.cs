using System.Net;
using System.Text;
using System.Text.Json;

namespace LlmSimulator.Tests;

public sealed class StreamingTests
{
    private const string StreamedChat = """
        {"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Stream me something"}]}
        """;

    [Fact]
    public async Task Streamed_chat_chunks_concatenate_to_the_reply_and_end_with_done()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        using var plain = await sim.Client.SendAsync(Http.Post("v1/chat/completions", StreamedChat.Replace("\"stream\":true", "\"stream\":false", StringComparison.Ordinal)));
        var expected = (await Http.JsonAsync(plain)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", StreamedChat));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", events[^1].Data);

        var chunks = events.GetRange(0, events.Count - 1).ConvertAll(e => JsonDocument.Parse(e.Data).RootElement);
        var content = new StringBuilder();
        var contentChunks = 0;
        foreach (var chunk in chunks)
        {
            Assert.Equal("chat.completion.chunk", chunk.GetProperty("object").GetString());
            var delta = chunk.GetProperty("choices")[0].GetProperty("delta");
            if (delta.TryGetProperty("content", out var text))
            {
                content.Append(text.GetString());
                contentChunks++;
            }
        }

        Assert.Equal(expected, content.ToString());
        Assert.Equal(new SimulatorOptions().DefaultChunks, contentChunks);
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.DoesNotContain(chunks, c => c.TryGetProperty("usage", out _));
    }

    [Fact]
    public async Task Streamed_chat_sends_usage_chunk_when_asked()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        var body = StreamedChat.Replace("\"stream\":true", "\"stream\":true,\"stream_options\":{\"include_usage\":true}", StringComparison.Ordinal);

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", body));

        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", events[^1].Data);
        var usageChunk = JsonDocument.Parse(events[^2].Data).RootElement;
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        var usage = usageChunk.GetProperty("usage");
        // "user" + "Stream me something" = 4 + 19.
        Assert.Equal(Http.PromptTokens(23), usage.GetProperty("prompt_tokens").GetInt32());
        var finish = JsonDocument.Parse(events[^3].Data).RootElement;
        Assert.Equal("stop", finish.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Chunks_directive_splits_the_reply_into_even_character_ranges()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        const string body = """
            {"model":"m","stream":true,"messages":[{"role":"user","content":"x"}],"simulator":{"reply":"abcdefghij klmnopqrst","chunks":3}}
            """;

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", body));

        var deltas = new List<string>();
        foreach (var e in Sse.Parse(await response.Content.ReadAsStringAsync()))
        {
            if (e.Data != "[DONE]" && JsonDocument.Parse(e.Data).RootElement.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var text))
            {
                deltas.Add(text.GetString()!);
            }
        }

        // 21 chars in 3 ranges of 7: the first word is split across chunks.
        Assert.Equal(["abcdefg", "hij klm", "nopqrst"], deltas);
    }

    [Fact]
    public async Task Chunk_headers_work_like_body_directives()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", StreamedChat, ("x-sim-chunks", "2"), ("x-sim-chunk-delay-ms", "1")));

        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        // Two content chunks, the finish chunk, [DONE].
        Assert.Equal(4, events.Count);
    }

    [Fact]
    public async Task Streamed_chunks_are_flushed_one_by_one()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        const string body = """
            {"model":"m","stream":true,"messages":[],"simulator":{"reply":"one two three four","chunks":4,"chunk_delay_ms":300}}
            """;

        using var response = await sim.Client.SendAsync(Http.Post("v1/chat/completions", body), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer);

        // The first read returns long before the 900 ms the whole stream takes, holding only the first chunk.
        var first = Encoding.UTF8.GetString(buffer, 0, read);
        Assert.Contains("\"content\":\"one \"", first, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Azure_stream_matches_openai_chat_stream()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("openai/deployments/my-gpt/chat/completions?api-version=2024-10-21", """{"stream":true,"messages":[{"role":"user","content":"hi"}]}"""));

        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", events[^1].Data);
        Assert.Equal("my-gpt", JsonDocument.Parse(events[0].Data).RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Anthropic_stream_sends_the_message_event_sequence()
    {
        await using var sim = await SimulatorHarness.StartAsync();
        const string body = """
            {"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"system":"Be nice",
             "messages":[{"role":"user","content":"Hello Claude"}],"simulator":{"chunks":3,"cached_tokens":2}}
            """;

        using var response = await sim.Client.SendAsync(Http.Post("v1/messages", body, ("anthropic-version", "2023-06-01")));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(
            ["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            events.ConvertAll(e => e.Event));

        var data = events.ConvertAll(e => JsonDocument.Parse(e.Data).RootElement);
        for (var i = 0; i < data.Count; i++)
        {
            Assert.Equal(events[i].Event, data[i].GetProperty("type").GetString());
        }

        var text = new StringBuilder();
        for (var i = 2; i <= 4; i++)
        {
            Assert.Equal("text_delta", data[i].GetProperty("delta").GetProperty("type").GetString());
            text.Append(data[i].GetProperty("delta").GetProperty("text").GetString());
        }

        // "Be nice" + "user" + "Hello Claude" = 7 + 4 + 12 = 23 chars → 6 tokens, 2 of them cache reads.
        var startUsage = data[0].GetProperty("message").GetProperty("usage");
        Assert.Equal(Http.PromptTokens(23) - 2, startUsage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(2, startUsage.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(Http.Words(text.ToString()), data[6].GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.Equal("end_turn", data[6].GetProperty("delta").GetProperty("stop_reason").GetString());
    }

    [Fact]
    public async Task Responses_stream_sends_created_deltas_and_completed()
    {
        await using var sim = await SimulatorHarness.StartAsync();

        using var response = await sim.Client.SendAsync(Http.Post("v1/responses", """{"model":"gpt-4.1","stream":true,"input":"Hello","simulator":{"chunks":2}}"""));

        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["response.created", "response.output_text.delta", "response.output_text.delta", "response.completed"], events.ConvertAll(e => e.Event));
        var completed = JsonDocument.Parse(events[^1].Data).RootElement.GetProperty("response");
        var text = completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString()!;
        var deltas = JsonDocument.Parse(events[1].Data).RootElement.GetProperty("delta").GetString()
            + JsonDocument.Parse(events[2].Data).RootElement.GetProperty("delta").GetString();
        Assert.Equal(text, deltas);
        Assert.Equal(Http.Words(text), completed.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }
}
