namespace LlmSimulator;

/// <summary>Behaviour of one simulated LLM upstream. Read on every request, so tests may change it after start.</summary>
public sealed class SimulatorOptions
{
    /// <summary>Echoed in the <c>x-simulator-name</c> response header and in the default reply text.</summary>
    public string Name { get; set; } = "simulator";

    /// <summary>Keep the last <see cref="MaxRecordedRequests"/> requests for <see cref="SimulatorServer.ReceivedRequests"/>.</summary>
    public bool RecordRequests { get; set; } = true;

    /// <summary>Bound of the recorded-request ring; the oldest request is dropped first.</summary>
    public int MaxRecordedRequests { get; set; } = 1000;

    /// <summary>
    /// When set, OpenAI paths need <c>Authorization: Bearer &lt;key&gt;</c>, Azure paths need <c>api-key: &lt;key&gt;</c>
    /// and Anthropic needs <c>x-api-key: &lt;key&gt;</c>; anything else gets 401 in that dialect's error shape.
    /// </summary>
    public string? RequiredApiKey { get; set; }

    /// <summary>Number of SSE content chunks when neither the body nor the headers say.</summary>
    public int DefaultChunks { get; set; } = 8;

    /// <summary>Delay between SSE content chunks when neither the body nor the headers say.</summary>
    public int DefaultChunkDelayMs { get; set; }

    /// <summary>
    /// The answer text for every request that has no <c>reply</c> directive. Lets a test make the model answer
    /// something the request itself does not contain (e.g. a classification marking for answer inspection).
    /// </summary>
    public string? Reply { get; set; }
}
