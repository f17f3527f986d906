using AiGateway.Configuration;
using AiGateway.Model;
using Microsoft.ML.Tokenizers;

namespace AiGateway.RateLimiting;

/// <summary>
/// Counts prompt tokens before forwarding. OpenAI-family models use their real tokenizer (o200k_base for
/// gpt-4o / gpt-4.1 / gpt-5 / o-series, cl100k_base for gpt-4, gpt-3.5 and text-embedding-3); other models get
/// a calibrated estimate: Anthropic ≈ 3.5 characters per token, anything else ≈ 4 (see docs/rate-limits.md).
/// The count only sizes the reservation; the provider's reported usage is what is finally charged.
/// </summary>
internal sealed class TokenCounter
{
    // OpenAI chat framing: each message costs a few tokens besides its text, and the reply is primed.
    private const int PerMessageOverhead = 3;
    private const int ReplyPriming = 3;

    private readonly Lazy<Tokenizer> _o200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private readonly Lazy<Tokenizer> _cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));
    private readonly TokenCountCache _cache = new();

    internal TokenCountCache Cache => _cache;

    /// <summary>
    /// Text tokenized exactly per request. Beyond it, the rest is counted at the characters-per-token ratio measured
    /// on the tokenized part: the reservation of a 32 KiB prompt then costs what an 8 KiB one does (the tokenizer
    /// was ~60% of the gateway's CPU on 32 KiB prompts), while still reflecting this prompt's language and content.
    /// </summary>
    internal const int ExactCharacters = 8 * 1024;

    /// <summary>
    /// The prompt's tokens. With a <paramref name="caller"/>, texts that caller sent recently (a conversation's earlier
    /// turns, an agent's instructions) are taken from <see cref="TokenCountCache"/> instead of being tokenized again.
    /// </summary>
    public int CountPrompt(LlmRequest request, ModelRoute model, Caller? caller = null)
    {
        var tokenizer = TokenizerFor(model);
        var partition = tokenizer is not null && caller is not null
            ? _cache.Partition(caller.Agency, caller.SubjectId, _o200k.IsValueCreated && ReferenceEquals(tokenizer, _o200k.Value) ? 1 : 2)
            : (long?)null;
        var tokens = 0;
        var lastMessage = -1;
        var messages = 0;
        var exactChars = 0;
        var exactTokens = 0;
        long sampledOutChars = 0;
        foreach (var segment in request.Segments)
        {
            if (tokenizer is null)
            {
                tokens += Estimate(segment.Text.Length, model.Api);
            }
            else if (exactChars < ExactCharacters)
            {
                var take = Math.Min(segment.Text.Length, ExactCharacters - exactChars);
                var counted = Count(tokenizer, segment.Text.AsSpan(0, take), partition);
                exactChars += take;
                exactTokens += counted;
                tokens += counted;
                sampledOutChars += segment.Text.Length - take;
            }
            else
            {
                sampledOutChars += segment.Text.Length;
            }
            if (segment.MessageIndex != lastMessage)
            {
                lastMessage = segment.MessageIndex;
                messages++;
            }
        }

        if (sampledOutChars > 0)
        {
            tokens += (int)Math.Min(int.MaxValue / 2, (long)Math.Ceiling(sampledOutChars * (double)Math.Max(1, exactTokens) / Math.Max(1, exactChars)));
        }

        if (request.Endpoint.Operation == ApiOperation.Embeddings)
        {
            return Math.Max(1, tokens);
        }

        return tokens + (messages * PerMessageOverhead) + ReplyPriming;
    }

    private int Count(Tokenizer tokenizer, ReadOnlySpan<char> text, long? partition)
    {
        if (partition is not { } seed || text.Length < TokenCountCache.MinCharacters)
        {
            return tokenizer.CountTokens(text);
        }

        var key = TokenCountCache.Key(seed, text);
        if (_cache.TryGet(key, out var tokens))
        {
            return tokens;
        }

        tokens = tokenizer.CountTokens(text);
        _cache.Set(key, tokens);
        return tokens;
    }

    /// <summary>Tokens for text the gateway saw streamed but was never told the usage of (a client that left mid-stream).</summary>
    public static long EstimateFromCharacters(long characters, ProviderApi api) => Estimate(characters, api);

    private Tokenizer? TokenizerFor(ModelRoute model)
    {
        if (model.Api == ProviderApi.Anthropic)
        {
            return null;
        }

        var name = model.Deployments[0].UpstreamModel;
        if (name.StartsWith("gpt-4o", StringComparison.OrdinalIgnoreCase) || name.StartsWith("chatgpt-4o", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("gpt-4.1", StringComparison.OrdinalIgnoreCase) || name.StartsWith("gpt-4.5", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("gpt-5", StringComparison.OrdinalIgnoreCase) || name.StartsWith("o1", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("o3", StringComparison.OrdinalIgnoreCase) || name.StartsWith("o4", StringComparison.OrdinalIgnoreCase))
        {
            return _o200k.Value;
        }

        if (name.StartsWith("gpt-4", StringComparison.OrdinalIgnoreCase) || name.StartsWith("gpt-3.5", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("text-embedding-3", StringComparison.OrdinalIgnoreCase) || name.StartsWith("text-embedding-ada", StringComparison.OrdinalIgnoreCase))
        {
            return _cl100k.Value;
        }

        return null;
    }

    private static int Estimate(long characters, ProviderApi api) =>
        (int)Math.Min(int.MaxValue, api == ProviderApi.Anthropic ? (long)Math.Ceiling(characters / 3.5) : (characters + 3) / 4);
}
