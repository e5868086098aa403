using Drydock.Provenance.Registry;

namespace Drydock.Evaluation.Privacy;

/// <summary>The canary labels a model version's memorization evidence must cover.</summary>
public static partial class PrivacyInputs
{
    /// <summary>
    /// The labels (sorted) of the canaries planted in <paramref name="model"/>'s training data: planted (the planted
    /// file's SHA-256) in the input of a dataset in its lineage, through the chain of <paramref name="plantings"/>, as
    /// <see cref="Canaries"/> checks, and, where the training files can be read, whose value is in them
    /// (<see cref="CanariesInTrainingData"/>; a label whose canaries were all cleaned into the held-out split was never
    /// trained on). When the training files cannot be read, every label planted in the lineage is kept: the gate then
    /// asks for its evaluation rather than assume it was not trained on. Canaries planted before Drydock recorded
    /// where are left out (no evaluation can be recorded for them).
    /// </summary>
    public static IReadOnlyList<string> PlantedLabels(ProvenanceRegistry registry, ModelRecord model, IReadOnlyList<(string Label, string Id, string Value, string? PlantedIn)> canaries, IReadOnlyList<(string From, string To)>? plantings, IReadOnlyList<string> folders)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(canaries);
        ArgumentNullException.ThrowIfNull(folders);
        var inLineage = new List<(string Label, string Id, string Value)>();
        foreach (var c in canaries.Where(c => c.PlantedIn is not null))
        {
            try
            {
                Canaries(registry, model, [(c.Id, c.PlantedIn)], plantings);
                inLineage.Add((c.Label, c.Id, c.Value));
            }
            catch (ArgumentException)
            {
                // Planted elsewhere: not this model version's training data.
            }
        }

        try
        {
            var present = CanariesInTrainingData(registry, model, [.. inLineage.Select(c => (c.Id, c.Value))], folders);
            inLineage = [.. inLineage.Where(c => present.Contains(c.Id))];
        }
        catch (ArgumentException)
        {
            // The training files cannot be read: every label planted in the lineage stays required.
        }

        return [.. inLineage.Select(c => c.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }
}
