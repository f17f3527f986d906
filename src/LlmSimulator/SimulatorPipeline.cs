using System.Buffers;
using System.Globalization;
using LlmSimulator.Protocol;
using Microsoft.AspNetCore.Http;

namespace LlmSimulator;

/// <summary>
/// The one request path every simulated endpoint shares: read body, record, instance faults, auth,
/// dialect checks, parse, directives, answer. Kept allocation-light because load tests run through it.
/// </summary>
internal sealed class SimulatorPipeline(SimulatorState state)
{
    public const string NameHeader = "x-simulator-name";

    // Kestrel drops bytes still queued for the socket when a connection is aborted; this grace lets the
    // partial stream reach the client first, so "reset_mid_stream" reliably means "some data, then reset".
    private const int AbortGraceMs = 50;

    private static readonly byte[] GarbageSse =
        """
        data: {"id":"chatcmpl-garbage","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"unterminated

        data: this is not json

        event: content_block_delta
        data: {"type":"content_block_delta",,}

        data: {]


        """u8.ToArray();

    private static readonly byte[] GarbageJson = """{"id":"garbage","object":"chat.completion","choices":[{"message":"""u8.ToArray();

    public async Task HandleAsync(HttpContext context, Operation operation, Dialect dialect)
    {
        var options = state.Options;
        context.Response.Headers[NameHeader] = options.Name;
        var aborted = context.RequestAborted;
        byte[]? body = null;
        try
        {
            (body, var length) = await ReadBodyAsync(context.Request, aborted);
            if (options.RecordRequests && state.Recorder is { } recorder)
            {
                recorder.Record(context.Request, body.AsSpan(0, length), options.MaxRecordedRequests);
            }

            var fault = state.Faults.Take();
            if (fault.DelayMs > 0)
            {
                await Task.Delay(fault.DelayMs, aborted);
            }

            if (fault.Reset)
            {
                context.Abort();
                return;
            }

            if (fault.StatusCode != 0)
            {
                await ErrorResponses.SendAsync(context, dialect, fault.StatusCode, ErrorResponses.DefaultMessage(fault.StatusCode), fault.RetryAfterSeconds, aborted);
                return;
            }

            if (!IsAuthorized(context.Request.Headers, dialect, options.RequiredApiKey))
            {
                await ErrorResponses.SendAsync(context, dialect, StatusCodes.Status401Unauthorized, ErrorResponses.DefaultMessage(401), null, aborted);
                return;
            }

            if (DialectError(context.Request, dialect) is { } dialectError)
            {
                await BadRequestAsync(context, dialect, dialectError, aborted);
                return;
            }

            if (operation == Operation.Models)
            {
                var models = JsonOutput.Begin();
                ModelList.WriteBody(models);
                await JsonOutput.SendAsync(context.Response, models, "application/json", aborted);
                return;
            }

            var request = new SimulatedRequest();
            if (!Directives.TryApplyHeaders(context.Request.Headers, request, out var error)
                || !RequestParser.TryParse(body.AsSpan(0, length), operation, request, out error))
            {
                await BadRequestAsync(context, dialect, error!, aborted);
                return;
            }

            ArrayPool<byte>.Shared.Return(body);
            body = null;

            if (dialect == Dialect.Azure)
            {
                // Azure routes by deployment; the body's model (if any) is not what Azure echoes.
                request.Model = context.Request.RouteValues["deployment"] as string;
            }
            else if (string.IsNullOrEmpty(request.Model))
            {
                await BadRequestAsync(context, dialect, "You must provide a model parameter.", aborted);
                return;
            }

            if (request.Status is { } status && (status < 400 || status > 599))
            {
                await BadRequestAsync(context, dialect, "The simulator status directive must be between 400 and 599.", aborted);
                return;
            }

            if (request.DelayMs is > 0)
            {
                await Task.Delay(request.DelayMs.Value, aborted);
            }

            if (request.Fault == SimulatedFault.Reset)
            {
                context.Abort();
                return;
            }

            if (request.Status is { } injected)
            {
                await ErrorResponses.SendAsync(context, dialect, injected, ErrorResponses.DefaultMessage(injected), request.RetryAfterSeconds, aborted);
                return;
            }

            await AnswerAsync(context, operation, request, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; there is nobody left to answer.
            state.OnRequestAborted();
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }
    }

    private async Task AnswerAsync(HttpContext context, Operation operation, SimulatedRequest request, CancellationToken aborted)
    {
        var response = context.Response;
        var model = request.Model!;
        var promptTokens = ReplyText.PromptTokens(request.PromptChars);

        if (operation == Operation.Embeddings)
        {
            var embeddings = JsonOutput.Begin();
            Embeddings.WriteBody(embeddings, model, request.EmbeddingSeeds ?? [], request.Dimensions ?? Embeddings.DefaultDimensions, promptTokens);
            await JsonOutput.SendAsync(response, embeddings, "application/json", aborted);
            return;
        }

        if (request.Fault == SimulatedFault.GarbageSse)
        {
            response.ContentType = request.Stream ? "text/event-stream" : "application/json";
            await response.BodyWriter.WriteAsync(request.Stream ? GarbageSse : GarbageJson, aborted);
            return;
        }

        var reply = request.Reply ?? state.Options.Reply ?? ReplyText.Build(state.Options.Name, request.MessageCount, request.LastUserWords);
        var completion = new Completion(
            NewId(operation),
            DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            model,
            reply,
            promptTokens,
            // Reasoning tokens are part of completion tokens, as in OpenAI's usage.
            ReplyText.CountWords(reply) + request.ReasoningTokens,
            Math.Min(request.CachedTokens, promptTokens),
            request.ReasoningTokens);

        if (request.Stream)
        {
            await StreamAsync(context, operation, request, completion, aborted);
            return;
        }

        var json = JsonOutput.Begin();
        switch (operation)
        {
            case Operation.Responses:
                OpenAiResponses.WriteBody(json, completion);
                break;
            case Operation.Messages:
                AnthropicMessages.WriteBody(json, completion);
                break;
            default:
                OpenAiChat.WriteBody(json, completion);
                break;
        }

        if (request.Fault != SimulatedFault.ResetMidStream)
        {
            await JsonOutput.SendAsync(response, json, "application/json", aborted);
            return;
        }

        await JsonOutput.SendTruncatedAsync(response, json, "application/json", aborted);
        await Task.Delay(AbortGraceMs, aborted);
        context.Abort();
    }

    private async Task StreamAsync(HttpContext context, Operation operation, SimulatedRequest request, Completion completion, CancellationToken aborted)
    {
        var reply = completion.Reply;
        var chunks = Math.Clamp(request.Chunks ?? state.Options.DefaultChunks, 1, Math.Max(1, reply.Length));
        var chunkDelay = request.ChunkDelayMs ?? state.Options.DefaultChunkDelayMs;
        var midStreamReset = request.Fault == SimulatedFault.ResetMidStream;
        var toSend = midStreamReset ? chunks / 2 : chunks;

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        using var sse = new SseWriter(response.BodyWriter);
        switch (operation)
        {
            case Operation.Responses:
                OpenAiResponses.WriteStart(sse, completion);
                break;
            case Operation.Messages:
                AnthropicMessages.WriteStart(sse, completion);
                break;
        }

        for (var i = 0; i < toSend; i++)
        {
            if (i > 0 && chunkDelay > 0)
            {
                await Task.Delay(chunkDelay, aborted);
            }

            var start = ReplyText.Boundary(reply, i, chunks);
            var end = ReplyText.Boundary(reply, i + 1, chunks);
            switch (operation)
            {
                case Operation.Responses:
                    OpenAiResponses.WriteDelta(sse, completion, reply.AsSpan(start, end - start), i + 1);
                    break;
                case Operation.Messages:
                    AnthropicMessages.WriteDelta(sse, reply.AsSpan(start, end - start));
                    break;
                default:
                    OpenAiChat.WriteDelta(sse, completion, reply.AsSpan(start, end - start), first: i == 0);
                    break;
            }

            // Each chunk is flushed on its own so clients and the gateway see real incremental delivery.
            if (!await sse.FlushAsync(aborted))
            {
                state.OnRequestAborted();
                return;
            }
        }

        if (midStreamReset)
        {
            await sse.FlushAsync(aborted);
            await Task.Delay(AbortGraceMs, aborted);
            context.Abort();
            return;
        }

        switch (operation)
        {
            case Operation.Responses:
                OpenAiResponses.WriteEnd(sse, completion, chunks + 1);
                break;
            case Operation.Messages:
                AnthropicMessages.WriteEnd(sse, completion);
                break;
            default:
                OpenAiChat.WriteEnd(sse, completion, request.IncludeUsage);
                break;
        }

        if (await sse.FlushAsync(aborted) && !aborted.IsCancellationRequested)
        {
            state.OnStreamCompleted();
        }
        else
        {
            state.OnRequestAborted();
        }
    }

    private string NewId(Operation operation)
    {
        var prefix = operation switch
        {
            Operation.Responses => "resp_sim",
            Operation.Messages => "msg_sim",
            _ => "chatcmpl-sim",
        };
        return string.Create(CultureInfo.InvariantCulture, $"{prefix}{state.NextId()}");
    }

    private static Task BadRequestAsync(HttpContext context, Dialect dialect, string message, CancellationToken aborted) =>
        ErrorResponses.SendAsync(context, dialect, StatusCodes.Status400BadRequest, message, null, aborted).AsTask();

    private static bool IsAuthorized(IHeaderDictionary headers, Dialect dialect, string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return true;
        }

        switch (dialect)
        {
            case Dialect.Azure:
                return headers["api-key"] is { Count: 1 } apiKey && string.Equals(apiKey[0], key, StringComparison.Ordinal);
            case Dialect.Anthropic:
                return headers["x-api-key"] is { Count: 1 } xApiKey && string.Equals(xApiKey[0], key, StringComparison.Ordinal);
            default:
                var authorization = headers.Authorization;
                return authorization.Count == 1
                    && authorization[0] is { } value
                    && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    && value.AsSpan(7).Trim().SequenceEqual(key);
        }
    }

    private static string? DialectError(HttpRequest request, Dialect dialect) => dialect switch
    {
        Dialect.Azure when string.IsNullOrEmpty(request.Query["api-version"]) => "Missing required query parameter 'api-version'.",
        Dialect.Anthropic when string.IsNullOrEmpty(request.Headers["anthropic-version"]) => "anthropic-version: header is required.",
        _ => null,
    };

    /// <summary>Reads the whole body into a pooled array; consuming as we go keeps Kestrel's buffers bounded.</summary>
    private static async ValueTask<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, CancellationToken aborted)
    {
        var reader = request.BodyReader;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 4096, 256, 1 << 20));
        var length = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(aborted);
                var data = result.Buffer;
                if (length + data.Length > buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Max(buffer.Length * 2L, length + data.Length));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                data.CopyTo(buffer.AsSpan(length));
                length += (int)data.Length;
                reader.AdvanceTo(data.End);
                if (result.IsCompleted)
                {
                    return (buffer, length);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
