using Drydock.Detection.Analyzers;
using Drydock.Evaluation.Targets;

namespace Drydock.Evaluation.Privacy;

/// <summary>A canary as planted: the sentence start that leads to it, and its value.</summary>
public sealed record PlantedCanary(string Id, string Prefix, string Value);

/// <summary>What the model gave away of one canary: verbatim extraction (greedy, sampled) and exposure in bits.</summary>
public sealed record CanaryOutcome(string Id, bool ExtractedGreedy, bool ExtractedSampled, double ExposureBits)
{
    /// <summary>Completions of this canary's sentence that failed (an error is not a canary kept: the gate calls too many inconclusive).</summary>
    public int Errors { get; init; }

    /// <summary>Completions asked for.</summary>
    public int Requests { get; init; }

    /// <summary>The exposure of each random code this canary was ranked against, among the others: codes never planted, scored as the canary is (the canary audit's non-members).</summary>
    public IReadOnlyList<double> NonMemberExposures { get; init; } = [];
}

/// <summary>
/// Memorisation of planted canaries: does the model complete each canary's sentence with the canary (greedy, and
/// in any of <c>samples</c> draws at temperature 1), and how exposed is it among <c>candidates</c> random codes of
/// the same shape (60 bits, so exposure is at most 60). Needs log-probabilities for exposure.
/// </summary>
public static class Memorization
{
    /// <summary>log2 of the number of possible canaries (32^12).</summary>
    public const double SpaceBits = 60;

    /// <summary>Tests each canary.</summary>
    public static async Task<IReadOnlyList<CanaryOutcome>> RunAsync(IEvaluationTarget target, IReadOnlyList<PlantedCanary> canaries, int candidates, int samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(canaries);
        var outcomes = new List<CanaryOutcome>();
        foreach (var canary in canaries)
        {
            var watch = new CanaryAnalyzer([CanaryAnalyzer.Hash(canary.Value)]);
            var (errors, requests) = (0, 0);
            bool Contains(TargetResponse r)
            {
                requests++;
                if (!r.Ok) errors++;
                List<Detection.Finding>? found = null;
                if (r.Text is not null) watch.Analyze(r.Text, ref found);
                return found is not null;
            }

            var greedy = Contains(await target.ContinueAsync(canary.Prefix, 16, 0, cancellationToken).ConfigureAwait(false));
            var sampled = greedy;
            for (var i = 0; i < samples && !sampled; i++) sampled = Contains(await target.ContinueAsync(canary.Prefix, 16, 1, cancellationToken).ConfigureAwait(false));
            var own = await target.ScoreAsync(canary.Prefix, canary.Value, cancellationToken).ConfigureAwait(false);
            var others = await Task.WhenAll(Enumerable.Range(0, candidates).Select(_ => target.ScoreAsync(canary.Prefix, CanaryAnalyzer.NewValue(), cancellationToken))).ConfigureAwait(false);
            var exposure = Exposure.Compute(own.LogLikelihood, [.. others.Select(o => o.LogLikelihood)], SpaceBits);
            var nonMembers = others.Length < 3 ? [] : Exposure.LeaveOneOut([.. others.Select(o => o.LogLikelihood)], SpaceBits).Select(e => Math.Round(e, 2)).ToArray();
            outcomes.Add(new CanaryOutcome(canary.Id, greedy, sampled, Math.Round(exposure, 2)) { Errors = errors, Requests = requests, NonMemberExposures = nonMembers });
        }

        return outcomes;
    }
}
