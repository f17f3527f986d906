namespace AiGateway.Markings;

/// <summary>The structural form in which a marking was found.</summary>
public enum MarkingKind
{
    /// <summary>A US classification banner line, or a classification with <c>//</c> control markings.</summary>
    Banner,

    /// <summary>A portion mark such as <c>(S)</c> or <c>(TS//SCI)</c> at the start of a line, paragraph, bullet or title.</summary>
    PortionMark,

    /// <summary>A classification authority block line (<c>Classified By:</c>, <c>Derived From:</c>, <c>Declassify On:</c>, <c>Reason: 1.4(…)</c>).</summary>
    AuthorityBlock,

    /// <summary>A CUI banner (<c>CUI</c>, <c>CONTROLLED</c>, <c>CUI//SP-…</c>).</summary>
    CuiBanner,

    /// <summary>A CUI designation indicator block line (<c>Controlled by:</c>, <c>CUI Category:</c>, <c>Limited Dissemination Control:</c>, <c>POC:</c>).</summary>
    CuiDesignationBlock,

    /// <summary>A legacy control (<c>FOR OFFICIAL USE ONLY</c>, <c>LAW ENFORCEMENT SENSITIVE</c>, <c>SENSITIVE BUT UNCLASSIFIED</c>).</summary>
    LegacyControlled,

    /// <summary>A NATO marking (<c>NATO SECRET</c>, <c>COSMIC TOP SECRET</c>, …).</summary>
    Nato,

    /// <summary>A foreign-government or joint marking (<c>//GBR SECRET</c>, <c>//JOINT SECRET CAN GBR USA</c>).</summary>
    ForeignOrJoint,
}
