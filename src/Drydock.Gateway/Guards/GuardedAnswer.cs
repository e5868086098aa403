using System.Text;
using Drydock.Detection;
using Drydock.Detection.Analyzers;

namespace Drydock.Gateway.Guards;

/// <summary>What the output guard saw of one answer: its findings, whether a canary tripped, the text sent (for the log).</summary>
internal sealed class GuardedAnswer(Tier tier, CanaryAnalyzer canaries)
{
    /// <summary>What a blocked choice says instead.</summary>
    public const string BlockedNotice = "[response blocked by policy]";

    public Tier Tier { get; } = tier;

    public CanaryAnalyzer Canaries { get; } = canaries;

    public List<Finding> Findings { get; } = [];

    public bool Canary { get; set; }

    public bool Blocked { get; set; }

    public StringBuilder Text { get; } = new();

    /// <summary>How many texts of the answer the guard read.</summary>
    public int TextsChecked { get; set; }

    /// <summary>What the output guard looks for: the tier's detectors (none when off) and registered canaries.</summary>
    public string Detectors => (Tier.Output == GuardMode.Off ? "" : TextGuard.OutputDetectors) + (Canaries.Count > 0 ? (Tier.Output == GuardMode.Off ? "canary" : ",canary") : "");

    /// <summary>Keeps what was sent for the request log (at most 64 KiB of it).</summary>
    public void AppendSent(string text)
    {
        if (Text.Length < 65536) Text.Append(text);
    }
}
