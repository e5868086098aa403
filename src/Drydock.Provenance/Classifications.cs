namespace Drydock.Provenance;

/// <summary>Data classifications by name, in increasing sensitivity.</summary>
public static class Classifications
{
    /// <summary>The names, least sensitive first.</summary>
    public static readonly IReadOnlyList<string> Ordered = ["public", "internal", "confidential", "regulated", "highly-sensitive"];

    /// <summary>The rank of a classification name (-1 when unknown).</summary>
    public static int Rank(string name) => Ordered.ToList().IndexOf(name);
}
