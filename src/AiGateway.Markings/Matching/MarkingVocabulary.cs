using System.Collections.Frozen;

namespace AiGateway.Markings.Matching;

/// <summary>The words that make up markings (upper-case, as the normaliser produces them).</summary>
internal static class MarkingVocabulary
{
    internal readonly record struct Phrase(string Text, MarkingLevel Level, MarkingKind Kind);

    internal enum LabelValue
    {
        Any,
        Reason14,
        Classification,
        AfterDesignation,
    }

    internal readonly record struct Label(string Text, MarkingLevel Level, MarkingKind Kind, LabelValue Value);

    /// <summary>Classification phrases, longest first so "TOP SECRET" wins over "SECRET".</summary>
    public static readonly Phrase[] Classifications =
    [
        new("COSMIC TOP SECRET", MarkingLevel.TopSecret, MarkingKind.Nato),
        new("NATO SECRET", MarkingLevel.Secret, MarkingKind.Nato),
        new("NATO CONFIDENTIAL", MarkingLevel.Confidential, MarkingKind.Nato),
        // No US RESTRICTED level exists; the US protects foreign RESTRICTED as CONFIDENTIAL (32 CFR 2001.54(c)).
        new("NATO RESTRICTED", MarkingLevel.Confidential, MarkingKind.Nato),
        new("NATO UNCLASSIFIED", MarkingLevel.Unclassified, MarkingKind.Nato),
        new("TOP SECRET", MarkingLevel.TopSecret, MarkingKind.Banner),
        new("SECRET", MarkingLevel.Secret, MarkingKind.Banner),
        new("CONFIDENTIAL", MarkingLevel.Confidential, MarkingKind.Banner),
        new("UNCLASSIFIED", MarkingLevel.Unclassified, MarkingKind.Banner),
        new("CUI", MarkingLevel.Cui, MarkingKind.CuiBanner),
        new("CONTROLLED", MarkingLevel.Cui, MarkingKind.CuiBanner),
    ];

    /// <summary>Classification words after a foreign trigraph (<c>//GBR SECRET</c>).</summary>
    public static readonly Phrase[] ForeignClassifications =
    [
        new("TOP SECRET", MarkingLevel.TopSecret, MarkingKind.ForeignOrJoint),
        new("SECRET", MarkingLevel.Secret, MarkingKind.ForeignOrJoint),
        new("CONFIDENTIAL", MarkingLevel.Confidential, MarkingKind.ForeignOrJoint),
        new("RESTRICTED", MarkingLevel.Confidential, MarkingKind.ForeignOrJoint),
        new("UNCLASSIFIED", MarkingLevel.Unclassified, MarkingKind.ForeignOrJoint),
    ];

    /// <summary>Legacy controls treated as CUI-level.</summary>
    public static readonly Phrase[] Legacy =
    [
        new("FOR OFFICIAL USE ONLY", MarkingLevel.Cui, MarkingKind.LegacyControlled),
        new("LAW ENFORCEMENT SENSITIVE", MarkingLevel.Cui, MarkingKind.LegacyControlled),
        new("SENSITIVE BUT UNCLASSIFIED", MarkingLevel.Cui, MarkingKind.LegacyControlled),
        new("LIMITED OFFICIAL USE", MarkingLevel.Cui, MarkingKind.LegacyControlled),
    ];

    /// <summary>Portion-mark abbreviations, longest first.</summary>
    public static readonly Phrase[] PortionAbbreviations =
    [
        new("TOP SECRET", MarkingLevel.TopSecret, MarkingKind.PortionMark),
        new("SECRET", MarkingLevel.Secret, MarkingKind.PortionMark),
        new("CONFIDENTIAL", MarkingLevel.Confidential, MarkingKind.PortionMark),
        new("UNCLASSIFIED", MarkingLevel.Unclassified, MarkingKind.PortionMark),
        new("CTS", MarkingLevel.TopSecret, MarkingKind.PortionMark),
        new("CUI", MarkingLevel.Cui, MarkingKind.PortionMark),
        new("FOUO", MarkingLevel.Cui, MarkingKind.PortionMark),
        new("LES", MarkingLevel.Cui, MarkingKind.PortionMark),
        new("SBU", MarkingLevel.Cui, MarkingKind.PortionMark),
        new("TS", MarkingLevel.TopSecret, MarkingKind.PortionMark),
        new("NS", MarkingLevel.Secret, MarkingKind.PortionMark),
        new("NC", MarkingLevel.Confidential, MarkingKind.PortionMark),
        new("NR", MarkingLevel.Confidential, MarkingKind.PortionMark),
        new("NU", MarkingLevel.Unclassified, MarkingKind.PortionMark),
        new("S", MarkingLevel.Secret, MarkingKind.PortionMark),
        new("C", MarkingLevel.Confidential, MarkingKind.PortionMark),
        new("U", MarkingLevel.Unclassified, MarkingKind.PortionMark),
        new("R", MarkingLevel.Confidential, MarkingKind.PortionMark),
    ];

    /// <summary>Labels of authority and designation blocks ("Label:" at line start followed by a value).</summary>
    public static readonly Label[] Labels =
    [
        new("CLASSIFIED BY", MarkingLevel.Confidential, MarkingKind.AuthorityBlock, LabelValue.Any),
        new("DERIVED FROM", MarkingLevel.Confidential, MarkingKind.AuthorityBlock, LabelValue.Any),
        new("DECLASSIFY ON", MarkingLevel.Confidential, MarkingKind.AuthorityBlock, LabelValue.Any),
        new("CLASSIFICATION REASON", MarkingLevel.Confidential, MarkingKind.AuthorityBlock, LabelValue.Reason14),
        new("REASON", MarkingLevel.Confidential, MarkingKind.AuthorityBlock, LabelValue.Reason14),
        new("CLASSIFICATION", MarkingLevel.Unclassified, MarkingKind.Banner, LabelValue.Classification),
        new("CONTROLLED BY", MarkingLevel.Cui, MarkingKind.CuiDesignationBlock, LabelValue.Any),
        new("CUI CATEGORIES", MarkingLevel.Cui, MarkingKind.CuiDesignationBlock, LabelValue.Any),
        new("CUI CATEGORY", MarkingLevel.Cui, MarkingKind.CuiDesignationBlock, LabelValue.Any),
        new("LIMITED DISSEMINATION CONTROLS", MarkingLevel.Cui, MarkingKind.CuiDesignationBlock, LabelValue.Any),
        new("LIMITED DISSEMINATION CONTROL", MarkingLevel.Cui, MarkingKind.CuiDesignationBlock, LabelValue.Any),
        new("POC", MarkingLevel.Cui, MarkingKind.CuiDesignationBlock, LabelValue.AfterDesignation),
    ];

    // First word of a control marking after "//" (SCI systems, SAR, AEA, FGI, dissemination controls, CUI
    // limited dissemination controls and common CUI Registry category abbreviations).
    private static readonly FrozenSet<string> s_controls = new[]
    {
        "SCI", "SI", "TK", "HCS", "G", "KDK", "RSV", "BUR", "SAR", "SPECIAL", "RD", "FRD", "CNWDI", "SIGMA", "TFNI",
        "UCNI", "DOD", "DOE", "FGI", "NOFORN", "NF", "ORCON", "OC", "IMCON", "IMC", "PROPIN", "PR", "RELIDO", "REL",
        "FVEY", "FISA", "LIMDIS", "FOUO", "EXDIS", "NODIS", "SBU", "LES", "SSI", "DSEN", "EYES", "DISPLAY", "FED",
        "FEDCON", "NOCON", "DL", "SP", "CUI", "NATO", "COSMIC", "ATOMAL", "BOHEMIA", "BALK", "RSEN", "WAIVED", "AC",
        "ACCM", "NNPI", "HVSACO", "JOINT", "ORCONUSGOV", "ATTORNEY", "PRVCY", "PRIVACY", "CTI", "EXPT", "PCII",
        "ISVI", "LEI", "OPSEC", "PHYS", "PROCURE", "TAX", "LEGAL", "INTEL", "NUC", "CRITINF", "HLTH", "SPHLTH",
        "BUDG", "GENETIC", "PERS", "PRIIG", "INF", "FSEC", "DCRIT", "ISEC", "LDNG", "MIL", "NARC", "SAMI", "MX",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> s_controlLookup =
        s_controls.GetAlternateLookup<ReadOnlySpan<char>>();

    // Controls that make an UNCLASSIFIED marking CUI-level (U//FOUO, UNCLASSIFIED//LES, (U//SP-PRVCY), …).
    private static readonly FrozenSet<string> s_cuiControls = new[]
    {
        "FOUO", "LES", "SBU", "SSI", "CUI", "LIMDIS", "UCNI", "NNPI", "DSEN", "SP", "PROPIN", "FOR", "LAW", "SENSITIVE",
        "FED", "FEDCON", "NOCON", "DL", "DISPLAY", "PRVCY", "PRIVACY", "CTI", "EXPT", "PCII", "LEI", "OPSEC",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> s_cuiControlLookup =
        s_cuiControls.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly uint s_classificationFirst = FirstLetters(Classifications);
    private static readonly uint s_foreignFirst = FirstLetters(ForeignClassifications);
    private static readonly uint s_legacyFirst = FirstLetters(Legacy);

    /// <summary>Cheap reject before trying a phrase table: can a phrase of <paramref name="table"/> start with <paramref name="c"/>?</summary>
    public static bool MayStartPhrase(Phrase[] table, char c)
    {
        if ((uint)(c - 'A') > 'Z' - 'A')
        {
            return false;
        }

        var mask = ReferenceEquals(table, Classifications) ? s_classificationFirst
            : ReferenceEquals(table, Legacy) ? s_legacyFirst
            : ReferenceEquals(table, ForeignClassifications) ? s_foreignFirst
            : uint.MaxValue;
        return (mask & (1u << (c - 'A'))) != 0;
    }

    private static uint FirstLetters(Phrase[] table)
    {
        var mask = 0u;
        foreach (var p in table)
        {
            mask |= 1u << (p.Text[0] - 'A');
        }

        return mask;
    }

    public static bool IsControlWord(ReadOnlySpan<char> word) => s_controlLookup.Contains(word);

    public static bool IsCuiControlWord(ReadOnlySpan<char> word) => s_cuiControlLookup.Contains(word);
}
