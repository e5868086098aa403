namespace Drydock.Curation.Cleaning;

/// <summary>The rule ids of the cleaner's own ledger entries (the detector's and the poisoning rules name theirs).</summary>
internal static class CleanRules
{
    public const string ExactDuplicate = "DD-DEDUP-001";
    public const string NearDuplicate = "DD-DEDUP-002";
    public const string NotSelected = "DD-KEEP-001";
    public const string SplitConflict = "DD-SPLIT-001";
    public const string SourcePolicy = "DD-POLICY-001";
    public const string Malformed = "DD-READ-001";
    public const string Review = "DD-REVIEW-001";
    public const string Normalization = "DD-NORM-001";
}
