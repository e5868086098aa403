using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Datasets.Similarity;
using Drydock.Detection.Engine;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Checks that a privacy evaluation recorded against a model version measures that model version: membership
/// inference's members are a dataset the model version was trained on (the file's SHA-256 is the dataset version)
/// and its non-members are not (neither that file nor any record of it: disjoint by content hash in
/// <see cref="TextForms.ForComparison"/>'s form, and no near-duplicate of a member: <see cref="NearDuplicates"/>); planted canaries
/// went into the input of a dataset in the model version's lineage. Each failure is an
/// <see cref="ArgumentException"/> that says what is wrong, and nothing is recorded.
/// </summary>
public static partial class PrivacyInputs
{
    /// <summary>Checks membership inputs; returns what was checked (for the evaluation's evidence).</summary>
    public static JsonObject Membership(ProvenanceRegistry registry, ModelRecord model, string membersPath, string nonMembersPath, IReadOnlyList<string> allMembers, IReadOnlyList<string> nonMembers, IReadOnlyList<string> folders)
    {
        ArgumentNullException.ThrowIfNull(folders);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(allMembers);
        ArgumentNullException.ThrowIfNull(nonMembers);
        var trained = model.Datasets.Select(registry.GetDataset).ToList();
        var membersSha = Dsse.Sha256Of(membersPath);
        var dataset = trained.FirstOrDefault(d => d.Version == membersSha)
            ?? throw new ArgumentException($"--members {membersPath} (sha256:{membersSha[..12]}) is not a dataset {model.Id} was trained on ({(trained.Count == 0 ? "it has no registered training dataset" : string.Join(", ", trained.Select(d => $"{d.Id} sha256:{d.Version[..12]}")))}); members must be the training data as registered");
        var nonMembersSha = Dsse.Sha256Of(nonMembersPath);
        var lineage = Lineage(registry, TrainedOn(registry, model));
        if (lineage.FirstOrDefault(d => d.Version == nonMembersSha) is { } same) throw new ArgumentException($"--non-members {nonMembersPath} is {same.Id}, a dataset in {model.Id}'s lineage; non-members must be records it never trained on");
        var leftOut = new SortedSet<int>();
        var all = Enumerable.Range(0, nonMembers.Count).ToList();
        var (shared, near) = CompareWith(allMembers, nonMembers, all, leftOut);
        if (shared > 0) throw new ArgumentException($"--non-members {nonMembersPath}: {shared} of {nonMembers.Count} records are also in --members {membersPath} (compared with case, width and whitespace folded, invisible characters removed); members and non-members must be disjoint");
        if (near.Count > 0)
        {
            var shown = string.Join(", ", near.Take(10).Select(p => $"#{p.NonMember + 1} ~ member #{p.Member + 1}"));
            throw new ArgumentException($"--non-members {nonMembersPath}: {near.Count} of {nonMembers.Count} records are near-duplicates of records in --members {membersPath} (near copies by the test drydock clean --holdout keeps on one side of its split: {Rule}; record numbers {shown}{(near.Count > 10 ? ", …" : "")}); a model scores them as the training records they nearly are, so non-members must not be near-duplicates of members");
        }

        // Not only the members file: everything the model trained on. A dataset of the lineage that holds the held-out
        // records (an overlapping export, a parent) makes them training records to the model.
        var others = new List<string>();
        foreach (var other in lineage.Where(d => d.Id != dataset.Id).OrderBy(d => d.Id, StringComparer.Ordinal))
        {
            var file = TrainingFile(other, folders, model);
            var (inIt, nearIt) = CompareWith(Datasets.DatasetReader.Texts(file), nonMembers, all, leftOut);
            if (inIt > 0) throw new ArgumentException($"--non-members {nonMembersPath}: {inIt} of {nonMembers.Count} records are in {other.Id} ({file}), a dataset in {model.Id}'s lineage (compared with case, width and whitespace folded, invisible characters removed); non-members must be records the model never trained on");
            if (nearIt.Count > 0)
            {
                var shown = string.Join(", ", nearIt.Take(10).Select(p => $"#{p.NonMember + 1} ~ {other.Id} #{p.Member + 1}"));
                throw new ArgumentException($"--non-members {nonMembersPath}: {nearIt.Count} of {nonMembers.Count} records are near-duplicates of records in {other.Id} ({file}), a dataset in {model.Id}'s lineage (near copies: {Rule}; record numbers {shown}{(nearIt.Count > 10 ? ", …" : "")}); non-members must be records the model never trained on");
            }

            others.Add(other.Id);
        }

        var rawInputs = CompareWithInputs(lineage, nonMembersPath, nonMembers, folders, model, leftOut);
        return new JsonObject
        {
            ["membersDataset"] = dataset.Id, ["membersSha256"] = membersSha, ["nonMembersSha256"] = nonMembersSha, ["membersFromLineage"] = true, ["disjoint"] = true,
            ["disjointFromLineage"] = new JsonArray([.. others.Select(d => (JsonNode)JsonValue.Create(d)!)]),
            ["rawInputs"] = rawInputs,
            [MistypedChecked] = true,
            [MistypedCheckedInputs] = true,
            [MistypedLeftOut] = new JsonArray([.. leftOut.Select(i => (JsonNode)JsonValue.Create(i + 1))]),
        };
    }

    /// <summary>
    /// Checks that every canary was planted (the planted file's SHA-256 in <paramref name="plantedIn"/>) in the input
    /// of a dataset in <paramref name="model"/>'s lineage; returns what was checked.
    /// </summary>
    public static JsonObject Canaries(ProvenanceRegistry registry, ModelRecord model, IReadOnlyList<(string Id, string? PlantedIn)> plantedIn, IReadOnlyList<(string From, string To)>? plantings = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plantedIn);
        var lineage = Lineage(registry, TrainedOn(registry, model));
        // The files each dataset was made from, and, walking the plantings back (planted.jsonl → planted2.jsonl → a
        // dataset's input), every file those were planted from: canaries planted early in the chain are in them too.
        var fed = lineage.ToDictionary(d => d.Id, d => Inputs(d), StringComparer.Ordinal);
        foreach (var files in fed.Values)
        {
            for (var grew = true; grew && plantings is not null;)
            {
                grew = false;
                foreach (var (from, to) in plantings) if (files.Contains(to) && files.Add(from)) grew = true;
            }
        }

        var datasets = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (id, file) in plantedIn)
        {
            if (file is null) throw new ArgumentException($"canary {id} was planted before Drydock recorded where (plant the canaries again with drydock canary plant)");
            var holder = lineage.FirstOrDefault(d => d.Version == file || fed[d.Id].Contains(file))
                ?? throw new ArgumentException($"canary {id} was planted in a file (sha256:{file[..12]}) that is not in {model.Id}'s training data ({(lineage.Count == 0 ? "it has no registered training dataset" : "datasets " + string.Join(", ", lineage.Select(d => d.Id)))}); the exposure of a canary the model never saw proves nothing");
            datasets.Add(holder.Id);
        }

        return new JsonObject { ["plantedInLineage"] = true, ["datasets"] = new JsonArray([.. datasets.Select(d => (JsonNode)JsonValue.Create(d)!)]) };
    }

    /// <summary>
    /// Checks that the records of an extraction evaluation are the model version's training data: the file is a
    /// dataset in its lineage or an input one was cleaned from (by SHA-256). Values asked for from any other file say
    /// nothing about what this model memorised.
    /// </summary>
    public static JsonObject Records(ProvenanceRegistry registry, ModelRecord model, string recordsPath)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(model);
        var lineage = Lineage(registry, TrainedOn(registry, model));
        var sha = Dsse.Sha256Of(recordsPath);
        var holder = lineage.FirstOrDefault(d => d.Version == sha || Inputs(d).Contains(sha))
            ?? throw new ArgumentException($"--records {recordsPath} (sha256:{sha[..12]}) is not in {model.Id}'s training data ({(lineage.Count == 0 ? "it has no registered training dataset" : "datasets " + string.Join(", ", lineage.Select(d => d.Id)) + " and the files they were cleaned from")}); extraction must ask for values the model was trained on");
        return new JsonObject { ["recordsSha256"] = sha, ["dataset"] = holder.Id, ["recordsFromLineage"] = true };
    }

    /// <summary>
    /// The canaries (id and value) that are in the training data itself of <paramref name="model"/>: the output file
    /// of each dataset it was trained on, found where its manifest names it (or in <paramref name="folders"/>) and
    /// checked against the dataset version. A canary planted in a file that was cleaned into a held-out split, or
    /// dropped by cleaning, was never trained on: its exposure proves nothing. Throws when a training file cannot be found.
    /// </summary>
    public static IReadOnlySet<string> CanariesInTrainingData(ProvenanceRegistry registry, ModelRecord model, IReadOnlyList<(string Id, string Value)> canaries, IReadOnlyList<string> folders) =>
        CanaryRepetitions(registry, model, canaries, folders).Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// How many times each canary's value is in the training data of <paramref name="model"/> (the files of every
    /// dataset it and its registered base were trained on, as <see cref="CanariesInTrainingData"/> reads them): the
    /// repetition counts of the canary audit. Canaries not in it are left out. Throws when a training file cannot be found.
    /// </summary>
    public static IReadOnlyDictionary<string, int> CanaryRepetitions(ProvenanceRegistry registry, ModelRecord model, IReadOnlyList<(string Id, string Value)> canaries, IReadOnlyList<string> folders)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(canaries);
        ArgumentNullException.ThrowIfNull(folders);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var dataset in TrainedOn(registry, model))
        {
            var text = File.ReadAllText(TrainingFile(dataset, folders, model));
            foreach (var (id, value) in canaries)
            {
                var times = 0;
                for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal)) times++;
                if (times > 0) counts[id] = counts.GetValueOrDefault(id) + times;
            }
        }

        return counts;
    }

    private static string Rule => $"MinHash similarity at or above {Threshold}, a few characters apart with the same numbers (a long number mistyped counts as the same) once whitespace, case and punctuation are set aside, long texts within a tenth of their characters or words in edits, or mostly contained in it";

    private static string Threshold => NearDuplicateIndex.DefaultThreshold.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);

    // A dataset's file, found where its manifest names it (or in one of the folders), and checked against the dataset
    // version (its SHA-256); a file missing or changed is an error: what cannot be read cannot be checked.
    private static string TrainingFile(DatasetRecord dataset, IReadOnlyList<string> folders, ModelRecord model)
    {
        string? file = null;
        try
        {
            file = (string?)JsonNode.Parse(dataset.Manifest)?["output"]?["file"];
        }
        catch (JsonException)
        {
        }

        return (file is null ? null : new[] { file }.Concat(folders.SelectMany(f => new[] { Path.Combine(f, file), Path.Combine(f, Path.GetFileName(file)) }))
            .FirstOrDefault(c => File.Exists(c) && Dsse.Sha256Of(c) == dataset.Version))
            ?? throw new ArgumentException($"the training data of {dataset.Id} ({file ?? "no file named"}, sha256:{dataset.Version[..12]}) was not found as it was registered (missing or changed); run from the project folder beside it, so what {model.Id} was trained on can be checked");
    }

    // The datasets the model version was trained on and, when its base is a registered model version, those its base
    // was trained on, recursively (its weights hold that data too); a cycle or a chain deeper than 32 stops the walk.
    private static List<DatasetRecord> TrainedOn(ProvenanceRegistry registry, ModelRecord model)
    {
        var datasets = new List<DatasetRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var m = model; m is not null && seen.Add(m.Id) && seen.Count <= 32; m = m.BaseModel is null ? null : registry.FindModel(m.BaseModel))
        {
            datasets.AddRange(m.Datasets.Select(registry.GetDataset));
        }

        return datasets;
    }

    // The datasets and every ancestor (parents, recursively; the depth cap guards a hand-edited registry).
    private static List<DatasetRecord> Lineage(ProvenanceRegistry registry, IEnumerable<DatasetRecord> datasets)
    {
        var all = new Dictionary<string, DatasetRecord>(StringComparer.Ordinal);
        var queue = new Queue<(DatasetRecord Dataset, int Depth)>(datasets.Select(d => (d, 0)));
        while (queue.TryDequeue(out var item))
        {
            if (!all.TryAdd(item.Dataset.Id, item.Dataset) || item.Depth >= 32) continue;
            foreach (var parent in item.Dataset.Parents) if (registry.FindDataset(parent) is { } p) queue.Enqueue((p, item.Depth + 1));
        }

        return [.. all.Values];
    }

    private static HashSet<string> Inputs(DatasetRecord dataset)
    {
        try
        {
            return [.. (JsonNode.Parse(dataset.Manifest)?["inputs"] as JsonArray ?? []).Select(i => (string?)i?["sha256"]).OfType<string>()];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
