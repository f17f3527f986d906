namespace AiGateway.Model;

/// <summary>Tokens of one request as the provider reported them (or as counted, when it did not).</summary>
/// <param name="PromptTokens">Input tokens, cached ones included.</param>
/// <param name="CompletionTokens">Output tokens, reasoning ones included.</param>
/// <param name="CachedPromptTokens">Input tokens read from the provider's prompt cache (OpenAI <c>cached_tokens</c>, Anthropic <c>cache_read_input_tokens</c>).</param>
/// <param name="CacheCreationTokens">Input tokens written to the prompt cache (Anthropic <c>cache_creation_input_tokens</c>).</param>
/// <param name="ReasoningTokens">Output tokens spent on reasoning (OpenAI <c>reasoning_tokens</c>).</param>
internal readonly record struct TokenUsage(long PromptTokens, long CompletionTokens, long CachedPromptTokens = 0, long CacheCreationTokens = 0, long ReasoningTokens = 0)
{
    public long TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>The state of the caller's limits after this request, for headers and audit.</summary>
/// <param name="Decision">allowed, rate_limited, budget_exhausted, limits_unavailable.</param>
/// <param name="LimitHit">Which limit refused the request (e.g. <c>caller.tokens_per_minute</c>), or null.</param>
internal sealed record LimitOutcome(string Decision, string? LimitHit, long? RemainingRequests, long? RemainingTokens, long? EstimatedTokens);
