namespace AiGateway.Markings;

/// <summary>Classification or control level of a marking, ordered from lowest to highest.</summary>
public enum MarkingLevel
{
    /// <summary>UNCLASSIFIED (including NATO UNCLASSIFIED and foreign UNCLASSIFIED).</summary>
    Unclassified = 0,

    /// <summary>Controlled Unclassified Information, and the legacy controls it replaced (FOUO, LES, SBU).</summary>
    Cui = 1,

    /// <summary>CONFIDENTIAL (including NATO CONFIDENTIAL and foreign or NATO RESTRICTED).</summary>
    Confidential = 2,

    /// <summary>SECRET (including NATO SECRET).</summary>
    Secret = 3,

    /// <summary>TOP SECRET (including COSMIC TOP SECRET).</summary>
    TopSecret = 4,
}
