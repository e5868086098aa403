using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// The regurgitation tripwire for one answer: the index of the model version the alias serves and what the tier does
/// with a hit (flag, redact, block). Every hit is kept (record id and span, never the text) for the request log, the
/// monitoring counts and the incident. One per answer; not thread-safe.
/// </summary>
internal sealed class RegurgitationGuard(RegurgitationIndex index, RegurgitationMode mode)
{
    /// <summary>What replaces the repeated words of a record when the tier redacts.</summary>
    public const string Marker = "[TRAINING-DATA]";

    /// <summary>
    /// Characters a stream holds back at least while the tripwire is on. It also holds the last n + k − 1 words, whatever
    /// their length (a run of k n-grams is then whole in the held text when its last word arrives, so nothing of it has
    /// left when it is redacted or blocked), and, in a redacting tier, a run still going on from its start until it ends.
    /// </summary>
    public const int Hold = 256;

    /// <summary>The index checked.</summary>
    public RegurgitationIndex Index { get; } = index;

    /// <summary>What a hit does.</summary>
    public RegurgitationMode Mode { get; } = mode;

    /// <summary>Every hit in the answer so far.</summary>
    public List<RegurgitationHit> Hits { get; } = [];

    /// <summary>Findings for the request log and the monitoring counts: one per hit, the record id as its excerpt.</summary>
    public IEnumerable<Finding> Findings => Hits.Select(h => new Finding("DD-REG-001", "regurgitation", "training-record", Severity.High, h.Start, h.End, 1.0, h.Record));

    /// <summary>Checks a whole text: whether the choice holding it is blocked, and the text to send (redacted when the tier says so).</summary>
    public (bool Blocked, string Text) Check(string text)
    {
        if (Index.Find(text) is not { } hit) return (false, text);
        Hits.Add(hit);
        if (Mode == RegurgitationMode.Block) return (true, text);
        if (Mode != RegurgitationMode.Redact) return (false, text);

        // Each pass replaces one run with the marker (which is in no record), so the loop ends within a pass per run.
        for (var passes = 0; passes < text.Length; passes++)
        {
            text = string.Concat(text.AsSpan(0, hit.Start), Marker, text.AsSpan(hit.End));
            if (Index.Find(text) is not { } next) break;
            Hits.Add(next);
            hit = next;
        }

        return (false, text);
    }
}
