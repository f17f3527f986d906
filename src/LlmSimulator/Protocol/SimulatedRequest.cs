namespace LlmSimulator.Protocol;

/// <summary>The few request fields the simulator needs, read once with <see cref="System.Text.Json.Utf8JsonReader"/>.</summary>
internal sealed class SimulatedRequest
{
    public string? Model { get; set; }

    public bool Stream { get; set; }

    public bool IncludeUsage { get; set; }

    public int? Dimensions { get; set; }

    /// <summary>UTF-16 chars of every string value in the prompt-bearing fields (the token rule's input).</summary>
    public long PromptChars { get; set; }

    public int MessageCount { get; set; }

    /// <summary>First three words of the last user message, or null when there was none.</summary>
    public string? LastUserWords { get; set; }

    /// <summary>One seed per embeddings input, so each vector is a function of its input text.</summary>
    public List<ulong>? EmbeddingSeeds { get; set; }

    // Directives: from the "simulator" body object, falling back to x-sim-* headers.
    public string? Reply { get; set; }

    public int? Chunks { get; set; }

    public int? ChunkDelayMs { get; set; }

    public int? Status { get; set; }

    public int? RetryAfterSeconds { get; set; }

    public int? DelayMs { get; set; }

    public SimulatedFault Fault { get; set; }

    public int CachedTokens { get; set; }

    public int ReasoningTokens { get; set; }
}
