namespace AiGateway.Markings.Matching;

/// <summary>Collects findings of one scan call; allocates only when the first finding arrives.</summary>
internal struct FindingSink
{
    public List<MarkingFinding>? Findings;
    public int Segment;

    /// <summary>End (original offset) of the last direct finding: later findings starting before it overlap and are dropped.</summary>
    public int LastEnd;

    /// <summary>Original offset where the last CUI designation block line ended, or -1 (for the <c>POC:</c> rule).</summary>
    public int LastDesignationLineEnd;

    public int DecodedBudget;
    public bool Unsorted;

    public FindingSink(int segment, int decodedBudget)
    {
        Segment = segment;
        DecodedBudget = decodedBudget;
        LastDesignationLineEnd = -1;
    }

    public readonly int Count => Findings?.Count ?? 0;

    public void StartSegment(int segment)
    {
        Segment = segment;
        LastEnd = 0;
        LastDesignationLineEnd = -1;
    }

    public void Add(MarkingKind kind, MarkingLevel level, int offset, int length)
    {
        if (offset < LastEnd || length <= 0)
        {
            return;
        }

        (Findings ??= []).Add(new MarkingFinding(kind, level, Segment, offset, length));
        LastEnd = offset + length;
    }

    public void AddOutOfOrder(MarkingFinding finding)
    {
        (Findings ??= []).Add(finding);
        Unsorted = true;
    }

    public readonly MarkingScanResult ToResult()
    {
        if (Findings is null)
        {
            return MarkingScanResult.None;
        }

        if (Unsorted)
        {
            Findings.Sort(static (x, y) => x.Segment != y.Segment ? x.Segment.CompareTo(y.Segment) : x.Offset.CompareTo(y.Offset));
        }

        return MarkingScanResult.From(Findings);
    }
}
