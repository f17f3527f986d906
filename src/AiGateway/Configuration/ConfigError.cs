namespace AiGateway.Configuration;

/// <summary>One configuration problem: where it is and how to fix it.</summary>
public sealed record ConfigError(string File, string Path, string Message)
{
    public override string ToString() => $"{File}: {Path}: {Message}";
}

/// <summary>Every problem found in one load of the configuration, reported together.</summary>
public sealed class ConfigValidationException : Exception
{
    public ConfigValidationException(IReadOnlyList<ConfigError> errors)
        : base(Format(errors)) => Errors = errors;

    public ConfigValidationException()
        : this([])
    {
    }

    public ConfigValidationException(string message)
        : base(message) => Errors = [];

    public ConfigValidationException(string message, Exception innerException)
        : base(message, innerException) => Errors = [];

    public IReadOnlyList<ConfigError> Errors { get; }

    private static string Format(IReadOnlyList<ConfigError> errors)
    {
        var text = new System.Text.StringBuilder();
        text.Append("The gateway configuration is invalid (").Append(errors.Count).Append(errors.Count == 1 ? " error):" : " errors):");
        foreach (var error in errors)
        {
            text.AppendLine().Append("  - ").Append(error);
        }

        return text.ToString();
    }
}
