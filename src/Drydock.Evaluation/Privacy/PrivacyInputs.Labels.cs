using Drydock.Provenance.Registry;

namespace Drydock.Evaluation.Privacy;

/// <summary>The canary labels a model version's memorization evidence must cover.</summary>
public static partial class PrivacyInputs
{
    /// <summary>
    /// The labels (sorted) of the canaries in <paramref name="model"/>'s training data, found by content: every canary
    /// whose value is in the training records of a dataset it was trained on (<see cref="CanariesInTrainingData"/>),
    /// however the file reached the dataset (shuffled, joined, converted: any edit breaks a chain of file hashes, not
    /// the content). A label whose canaries were all cleaned into the held-out split was never trained on. The chain
    /// of <paramref name="plantings"/> is only additional evidence (<see cref="Canaries"/>), never what decides. When
    /// the training files cannot be read, every label is required (fail closed): the gate then asks for its evaluation
    /// rather than assume it was not trained on.
    /// </summary>
    public static IReadOnlyList<string> PlantedLabels(ProvenanceRegistry registry, ModelRecord model, IReadOnlyList<(string Label, string Id, string Value, string? PlantedIn)> canaries, IReadOnlyList<(string From, string To)>? plantings, IReadOnlyList<string> folders)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(canaries);
        ArgumentNullException.ThrowIfNull(folders);
        var found = canaries.ToList();
        try
        {
            var present = CanariesInTrainingData(registry, model, [.. canaries.Select(c => (c.Id, c.Value))], folders);
            found = [.. found.Where(c => present.Contains(c.Id))];
        }
        catch (ArgumentException)
        {
            // The training files cannot be read: every label stays required.
        }

        return [.. found.Select(c => c.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }
}
