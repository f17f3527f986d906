namespace AiGateway.Markings;

/// <summary>The markings found by a scan, ordered by segment and offset.</summary>
public sealed class MarkingScanResult
{
    private static readonly MarkingFinding[] s_noFindings = [];

    private MarkingScanResult(IReadOnlyList<MarkingFinding> findings, MarkingLevel? highest)
    {
        Findings = findings;
        HighestLevel = highest;
    }

    /// <summary>The shared result with no markings.</summary>
    public static MarkingScanResult None { get; } = new(s_noFindings, null);

    /// <summary>True when at least one marking was found.</summary>
    public bool HasMarkings => Findings.Count > 0;

    /// <summary>The highest level among the findings, or null when there are none.</summary>
    public MarkingLevel? HighestLevel { get; }

    /// <summary>The markings found, ordered by segment and offset; they carry positions, never text.</summary>
    public IReadOnlyList<MarkingFinding> Findings { get; }

    internal static MarkingScanResult From(List<MarkingFinding>? findings)
    {
        if (findings is null || findings.Count == 0)
        {
            return None;
        }

        var highest = MarkingLevel.Unclassified;
        foreach (var f in findings)
        {
            if (f.Level > highest)
            {
                highest = f.Level;
            }
        }

        return new MarkingScanResult(findings.AsReadOnly(), highest);
    }
}
