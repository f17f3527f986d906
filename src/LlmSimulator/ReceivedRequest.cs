namespace LlmSimulator;

/// <summary>One request as the simulator received it, recorded before any fault was applied.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Request path, e.g. <c>/v1/chat/completions</c>.</param>
/// <param name="QueryString">Query string including the leading <c>?</c>, or empty.</param>
/// <param name="Headers">Request headers; case-insensitive keys, multiple values joined with <c>", "</c>.</param>
/// <param name="Body">The raw request body.</param>
public sealed record ReceivedRequest(
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body)
{
    /// <summary>The HTTP protocol of the request, e.g. <c>HTTP/1.1</c> or <c>HTTP/2</c>.</summary>
    public string Protocol { get; init; } = "";

    /// <summary>The id of the connection the request came on (Kestrel's), to tell reused connections from new ones.</summary>
    public string ConnectionId { get; init; } = "";
}
