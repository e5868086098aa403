using System.Text;
using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Gateway.Payload;

namespace Drydock.Gateway.Guards;

/// <summary>What the output guard saw of one answer: its findings, whether a canary tripped, the text sent (for the log).</summary>
internal sealed class GuardedAnswer(Tier tier, CanaryAnalyzer canaries)
{
    /// <summary>What a blocked choice says instead.</summary>
    public const string BlockedNotice = "[response blocked by policy]";

    // Strings outside the text values already found clean: a stream repeats its id, model and field names in every chunk.
    private readonly HashSet<string> _clean = new(StringComparer.Ordinal);

    public Tier Tier { get; } = tier;

    public CanaryAnalyzer Canaries { get; } = canaries;

    public List<Finding> Findings { get; } = [];

    public bool Canary { get; set; }

    public bool Blocked { get; set; }

    public StringBuilder Text { get; } = new();

    /// <summary>How many texts of the answer the guard read.</summary>
    public int TextsChecked { get; set; }

    /// <summary>The regurgitation tripwire, when the tier checks answers against the served model's training records.</summary>
    public RegurgitationGuard? Tripwire { get; init; }

    /// <summary>True when the output guard, the canary tripwire or the regurgitation tripwire is on.</summary>
    public bool Guarding => Tier.Output != GuardMode.Off || Canaries.Count > 0 || Tripwire is not null;

    /// <summary>What the output guard looks for: the tier's detectors (none when off), registered canaries and training records.</summary>
    public string Detectors => string.Join(",", new[] { Tier.Output == GuardMode.Off ? "" : TextGuard.OutputDetectors, Canaries.Count > 0 ? "canary" : "", Tripwire is not null ? "regurgitation" : "" }.Where(d => d.Length > 0));

    /// <summary>Keeps what was sent for the request log (at most 64 KiB of it).</summary>
    public void AppendSent(string text)
    {
        if (Text.Length < 65536) Text.Append(text);
    }

    /// <summary>
    /// Checks the strings of an answer that cannot be redacted in place: a structural field must hold only its structure
    /// (<see cref="JsonStrings.Fits"/>), and it, every property name and every byte array must hold nothing the guard
    /// finds. Returns why the answer is refused (it then ends with an error, never passes), or null. The reason names
    /// no text of the answer.
    /// </summary>
    public string? Unredactable(TextGuard guard, IEnumerable<StringLeaf> leaves)
    {
        if (!Guarding) return null;
        foreach (var leaf in leaves)
        {
            if (leaf.Kind is LeafKind.Text or LeafKind.Joined) continue;
            var what = leaf.Kind switch
            {
                LeafKind.Structure => "the field " + leaf.Property,
                LeafKind.Name => "a field name",
                LeafKind.Number => "a number",
                _ => "a byte array",
            };

            // Judged first, whatever its shape: a canary in a malformed field still trips the wire.
            if (!_clean.Contains(leaf.Value))
            {
                TextsChecked++;
                var result = guard.Judge(leaf.Value, Tier.Output, Canaries);
                if (result.Findings.Count > 0)
                {
                    Findings.AddRange(result.Findings);
                    Canary |= result.Canary;
                    Blocked = true;
                    return $"the upstream sent an answer whose {what} holds text the guard does not let through";
                }

                _clean.Add(leaf.Value);
            }

            if (leaf.Kind == LeafKind.Structure && !JsonStrings.Fits(leaf.Property!, leaf.Value)) return $"the upstream sent an answer whose {what} holds more than its structure allows";
        }

        return null;
    }
}
