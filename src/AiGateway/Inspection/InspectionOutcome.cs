using AiGateway.Configuration;
using AiGateway.Markings;

namespace AiGateway.Inspection;

/// <summary>What inspection decided about a prompt or an answer.</summary>
internal enum MarkingDecision
{
    /// <summary>No marking found.</summary>
    Clean,

    /// <summary>Markings found, none above the effective ceiling.</summary>
    WithinCeiling,

    /// <summary>Forwarded, and recorded for audit (agency action <c>flag</c>, or flagged UNCLASSIFIED markings).</summary>
    Flagged,

    /// <summary>Refused: a marking above the effective ceiling with agency action <c>block</c>.</summary>
    Blocked,
}

/// <summary>The findings and decision of one inspection (never any of the text itself).</summary>
internal sealed record InspectionOutcome(
    MarkingDecision Decision,
    MarkingLevel? HighestLevel,
    MarkingLevel EffectiveCeiling,
    IReadOnlyList<MarkingFinding> Findings)
{
    public static InspectionOutcome Clean(MarkingLevel ceiling) => new(MarkingDecision.Clean, null, ceiling, []);

    /// <summary>Applies the agency policy to a scan result.</summary>
    public static InspectionOutcome Decide(MarkingScanResult result, MarkingLevel ceiling, InspectionPolicy policy) =>
        Decide(result.Findings, ceiling, policy);

    /// <summary>Applies the agency policy to findings (possibly gathered across several scans).</summary>
    public static InspectionOutcome Decide(IReadOnlyList<MarkingFinding> findings, MarkingLevel ceiling, InspectionPolicy policy)
    {
        if (findings.Count == 0)
        {
            return Clean(ceiling);
        }

        var highest = MarkingLevel.Unclassified;
        foreach (var finding in findings)
        {
            if (finding.Level > highest)
            {
                highest = finding.Level;
            }
        }

        if (highest <= ceiling)
        {
            var decision = highest == MarkingLevel.Unclassified && policy.FlagUnclassified ? MarkingDecision.Flagged : MarkingDecision.WithinCeiling;
            return new(decision, highest, ceiling, findings);
        }

        // The strictest action among the levels present above the ceiling wins.
        var block = false;
        foreach (var finding in findings)
        {
            if (finding.Level > ceiling && policy.ActionFor(finding.Level) == MarkingAction.Block)
            {
                block = true;
                break;
            }
        }

        return new(block ? MarkingDecision.Blocked : MarkingDecision.Flagged, highest, ceiling, findings);
    }

    public static string LevelName(MarkingLevel level) => level switch
    {
        MarkingLevel.Unclassified => "UNCLASSIFIED",
        MarkingLevel.Cui => "CUI",
        MarkingLevel.Confidential => "CONFIDENTIAL",
        MarkingLevel.Secret => "SECRET",
        _ => "TOP SECRET",
    };

    /// <summary>Distinct marking kinds above the ceiling, for messages (e.g. "Banner, PortionMark").</summary>
    public string KindsAboveCeiling()
    {
        var kinds = new List<MarkingKind>();
        foreach (var finding in Findings)
        {
            if (finding.Level > EffectiveCeiling && !kinds.Contains(finding.Kind))
            {
                kinds.Add(finding.Kind);
            }
        }

        return string.Join(", ", kinds);
    }
}
