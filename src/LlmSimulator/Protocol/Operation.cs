namespace LlmSimulator.Protocol;

/// <summary>Which API the request is for; decides the prompt-bearing fields and the response shape.</summary>
internal enum Operation
{
    ChatCompletions,
    Responses,
    Embeddings,
    Messages,
    Models,
}

/// <summary>Which vendor's conventions apply: authentication header and error shape.</summary>
internal enum Dialect
{
    OpenAi,
    Azure,
    Anthropic,
}

internal enum SimulatedFault
{
    None,
    Reset,
    ResetMidStream,
    GarbageSse,
}
