using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;

namespace Drydock.Gateway.Guards;

/// <summary>
/// Registered canaries written in an encoding (base64, hex, spaced out: what <see cref="EncodedText"/> decodes for the
/// secret and personal-data rules): each encoded run of the text is decoded and looked at for canaries, to
/// <see cref="EncodedText.MaxDepth"/> levels, and a canary found there is a finding on the whole encoded run.
/// </summary>
internal static class EncodedCanaries
{
    /// <summary>Adds to <paramref name="found"/> a finding for each encoded run of <paramref name="text"/> that decodes to text holding a canary.</summary>
    public static void Find(string text, CanaryAnalyzer canaries, ref List<Finding>? found, int depth = 1)
    {
        if (canaries.Count == 0 || text.Length < EncodedText.MinBase64 || EncodedText.Find(text) is not { } runs) return;
        foreach (var run in runs)
        {
            List<Finding>? inner = null;
            canaries.Analyze(run.Decoded, ref inner);
            if (depth < EncodedText.MaxDepth) Find(run.Decoded, canaries, ref inner, depth + 1);
            if (inner is not { Count: > 0 }) continue;
            (found ??= []).Add(inner[0] with
            {
                Start = run.Start,
                End = run.End,
                Excerpt = run.Encoding + ": " + Masking.MaskValue(text.AsSpan(run.Start, run.End - run.Start)),
                Encoding = inner[0].Encoding is null ? run.Encoding : run.Encoding + "+" + inner[0].Encoding,
            });
        }
    }
}
