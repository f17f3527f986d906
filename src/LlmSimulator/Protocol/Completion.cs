namespace LlmSimulator.Protocol;

/// <summary>One simulated answer with its usage, shared by every response shape.</summary>
internal sealed record Completion(
    string Id,
    long Created,
    string Model,
    string Reply,
    int PromptTokens,
    int CompletionTokens,
    int CachedTokens,
    int ReasoningTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
