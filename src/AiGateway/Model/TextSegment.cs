namespace AiGateway.Model;

/// <summary>Where in the request a piece of prompt text came from.</summary>
internal enum SegmentSource
{
    /// <summary>Anthropic top-level <c>system</c>, OpenAI/Responses <c>instructions</c>.</summary>
    System,
    /// <summary>An element of <c>messages</c> (chat, Anthropic) or <c>input</c> (Responses, embeddings).</summary>
    Message,
    /// <summary>Tool and function declarations (<c>tools</c>, <c>functions</c>), response schemas.</summary>
    Tool,
    /// <summary>Any other string value in the body (metadata, legacy <c>prompt</c>, unknown fields).</summary>
    Other,
}

/// <summary>
/// One decoded string value of the prompt. The parser keeps every string the model could read,
/// so inspection cannot be bypassed by hiding text in a field the gateway does not know.
/// </summary>
/// <param name="Source">Which part of the request carried it.</param>
/// <param name="MessageIndex">Index in <c>messages</c>/<c>input</c>, or -1.</param>
/// <param name="Role">The message role when known (system, developer, user, assistant, tool), else null.</param>
/// <param name="Text">The decoded text (JSON escapes already resolved).</param>
internal readonly record struct TextSegment(SegmentSource Source, int MessageIndex, string? Role, string Text);
