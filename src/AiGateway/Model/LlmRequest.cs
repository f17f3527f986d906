namespace AiGateway.Model;

/// <summary>
/// The parsed view of an LLM API request body: what policy needs, read once with <c>Utf8JsonReader</c>.
/// The body bytes themselves are forwarded unchanged.
/// </summary>
internal sealed class LlmRequest
{
    public required ApiEndpoint Endpoint { get; init; }

    /// <summary>The model as the client named it (body <c>model</c>, or the Azure deployment from the path).</summary>
    public required string Model { get; init; }

    /// <summary>Byte range of the <c>model</c> string token (quotes included) in the body, or default when absent (also in Azure-dialect bodies, where <see cref="Model"/> comes from the path).</summary>
    public Range ModelValueRange { get; init; }

    public bool Stream { get; init; }

    /// <summary>Byte range of the <c>stream_options</c> value in the body, or default when absent.</summary>
    public Range StreamOptionsRange { get; init; }

    /// <summary><c>stream_options.include_usage</c> as the client sent it.</summary>
    public bool StreamIncludeUsage { get; init; }

    /// <summary><c>max_tokens</c>, <c>max_completion_tokens</c> or <c>max_output_tokens</c>, whichever was given.</summary>
    public int? MaxOutputTokens { get; init; }

    public required IReadOnlyList<TextSegment> Segments { get; init; }

    /// <summary>Total UTF-16 length of all segments (a cheap size signal for token estimates).</summary>
    public int TextLength { get; init; }
}
