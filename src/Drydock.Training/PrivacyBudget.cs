using System.Globalization;
using System.Text.Json.Nodes;

namespace Drydock.Training;

/// <summary>
/// What a DP-SGD run spends, all from <see cref="PrivacyAccountant"/>: ε at δ, for noise multiplier σ, Poisson sampling
/// rate q, the number of steps and the clipping norm C. Planned before training (<see cref="Plan"/>), and computed again
/// from the steps the trainer actually took (<see cref="Spent"/>) for the signed model statement.
/// </summary>
public sealed record PrivacyBudget(double Epsilon, double Delta, double NoiseMultiplier, double SamplingRate, long Steps, double MaxGradNorm)
{
    /// <summary>How ε was computed (recorded beside it).</summary>
    public const string Accountant = "rdp-poisson-subsampled-gaussian (Mironov et al. 2019), (ε, δ) by Balle et al. 2020";

    /// <summary>
    /// The budget of a plan over <paramref name="records"/> records: q = batch / records, ⌈records / batch⌉ steps per
    /// epoch, δ as planned (default 1/(10·records)), σ as planned or the smallest that meets the target ε.
    /// </summary>
    public static PrivacyBudget Plan(PrivacyPlan privacy, long records, int batchSize, int epochs)
    {
        ArgumentNullException.ThrowIfNull(privacy);
        if (records > int.MaxValue) throw new PrivacyAccountingException($"{records} records is more than the accountant's schedule handles");
        var delta = privacy.Delta ?? 1.0 / (10.0 * Math.Max(1, records));
        var (q, steps) = PrivacyAccountant.Schedule((int)records, batchSize, epochs, delta);
        var sigma = privacy.NoiseMultiplier ?? PrivacyAccountant.NoiseMultiplierFor(privacy.Epsilon!.Value, q, steps, delta);
        return new PrivacyBudget(PrivacyAccountant.Epsilon(q, sigma, steps, delta).Epsilon, delta, sigma, q, steps, privacy.MaxGradNorm);
    }

    /// <summary>The ε spent by the steps a run took (none: ε = 0).</summary>
    public static PrivacyBudget Spent(double noiseMultiplier, double samplingRate, long steps, double delta, double maxGradNorm) =>
        new(steps == 0 ? 0 : PrivacyAccountant.Epsilon(samplingRate, noiseMultiplier, steps, delta).Epsilon, delta, noiseMultiplier, samplingRate, steps, maxGradNorm);

    /// <summary>The budget as JSON (what the trainer reads from the plan, and what the model statement records).</summary>
    public JsonObject ToJson() => new()
    {
        ["epsilon"] = Math.Round(Epsilon, 4),
        ["delta"] = Delta,
        ["noiseMultiplier"] = NoiseMultiplier,
        ["samplingRate"] = SamplingRate,
        ["steps"] = Steps,
        ["maxGradNorm"] = MaxGradNorm,
        ["accountant"] = Accountant,
    };

    /// <summary>One line for people: ε, δ, σ, q, steps, C.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"ε = {Epsilon:0.###} at δ = {Delta:G3} (σ = {NoiseMultiplier:0.###}, q = {SamplingRate:G3}, {Steps} steps, C = {MaxGradNorm:G3})");
}

/// <summary>The privacy rule of a plan: the ε it would spend is within the policy's <c>max-epsilon</c> for its data's classification.</summary>
internal static class PrivacyCheck
{
    public static PlanCheck? Run(TrainingPlan plan, Provenance.Registry.DatasetRecord? dataset)
    {
        var cap = dataset is not null && plan.Policy.MaxEpsilon.TryGetValue(dataset.Classification, out var c) ? c : (double?)null;
        if (plan.Privacy is null)
        {
            return cap is null ? null : new PlanCheck("privacy", false, $"the policy caps ε at {F(cap.Value)} for {dataset!.Classification} data, and the plan has no privacy: section (without DP-SGD ε is unbounded)");
        }

        if (dataset is null) return new PlanCheck("privacy", false, "unknown: the dataset is not registered, so its records (and the sampling rate) are unknown");
        try
        {
            var budget = PrivacyBudget.Plan(plan.Privacy, dataset.Records, plan.BatchSize, plan.Epochs);
            var passed = cap is null || budget.Epsilon <= cap.Value;
            return new PlanCheck("privacy", passed, $"{budget} on {dataset.Records} records; {(cap is null ? $"no cap for {dataset.Classification} data" : $"at most {F(cap.Value)} for {dataset.Classification} data")}");
        }
        catch (PrivacyAccountingException e)
        {
            return new PlanCheck("privacy", false, e.Message);
        }
    }

    private static string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
