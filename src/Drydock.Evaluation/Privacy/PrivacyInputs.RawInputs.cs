using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Detection.Engine;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Evaluation.Privacy;

/// <summary>
/// Non-members compared with the training data as it was before cleaning: the input files each dataset of the lineage
/// was cleaned from (its manifest's <c>inputs</c>), found where the manifest names them (or in the project folders)
/// and checked against the SHA-256 it records. A training record's unredacted original is not a near copy of its
/// redacted form, yet the model scores it as the record it trained on. Non-members that are records of the dataset's
/// own held-out split are not compared with its inputs (their originals are there by construction); a held-out
/// record's unredacted original is refused with the training records' (the two cannot be told apart). An input
/// missing or changed since cleaning is not compared and is said so, on stderr and in the recorded evaluation.
/// </summary>
public static partial class PrivacyInputs
{
    private const string InputCompared = "compared";
    private const string InputMissing = "missing";
    private const string InputChanged = "changed";

    // Throws when a non-member is (or nearly is) a record of an input; returns one entry per input: dataset, file,
    // sha256, status (compared, missing, changed).
    private static JsonArray CompareWithInputs(IReadOnlyList<DatasetRecord> lineage, string nonMembersPath, IReadOnlyList<string> nonMembers, IReadOnlyList<string> folders, ModelRecord model, ISet<int> leftOut)
    {
        var nonMembersSha = Dsse.Sha256Of(nonMembersPath);
        var entries = new JsonArray();
        foreach (var dataset in lineage.OrderBy(d => d.Id, StringComparer.Ordinal))
        {
            JsonNode? manifest;
            try
            {
                manifest = JsonNode.Parse(dataset.Manifest);
            }
            catch (JsonException)
            {
                manifest = null;
            }

            var inputs = (manifest?["inputs"] as JsonArray ?? []).Select(i => ((string?)i?["file"], (string?)i?["sha256"])).ToList();
            if (inputs.Count == 0) continue;
            // The non-members this dataset's cleaning held out (its own split) are not compared with its inputs.
            var candidates = Enumerable.Range(0, nonMembers.Count).ToList();
            var holdout = manifest?["holdout"];
            if ((string?)holdout?["sha256"] is { } holdoutSha)
            {
                if (holdoutSha == nonMembersSha) candidates.Clear();
                else if (Locate((string?)holdout?["file"], holdoutSha, folders) is ({ } heldOutFile, InputCompared))
                {
                    var heldOut = Datasets.DatasetReader.Texts(heldOutFile).Select(t => RunIdentity.Sha256(TextForms.ForComparison(t))).ToHashSet(StringComparer.Ordinal);
                    candidates.RemoveAll(i => heldOut.Contains(RunIdentity.Sha256(TextForms.ForComparison(nonMembers[i]))));
                }
            }

            foreach (var (file, sha) in inputs)
            {
                var (path, status) = Locate(file, sha, folders);
                entries.Add((JsonNode)new JsonObject { ["dataset"] = dataset.Id, ["file"] = file, ["sha256"] = sha, ["status"] = status });
                if (path is null || candidates.Count == 0) continue;
                var (exact, near) = CompareWith(Datasets.DatasetReader.Texts(path), nonMembers, candidates, leftOut);
                if (exact > 0) throw new ArgumentException($"--non-members {nonMembersPath}: {exact} of {nonMembers.Count} records are records of {file} (sha256:{sha![..12]}), an input {dataset.Id} was cleaned from, in {model.Id}'s lineage (compared before cleaning: an unredacted original of a training record is that record to the model); non-members must be records the model never trained on");
                if (near.Count > 0)
                {
                    var shown = string.Join(", ", near.Take(10).Select(p => $"#{p.NonMember + 1} ~ {file} #{p.Member + 1}"));
                    throw new ArgumentException($"--non-members {nonMembersPath}: {near.Count} of {nonMembers.Count} records are near-duplicates of records of {file} (sha256:{sha![..12]}), an input {dataset.Id} was cleaned from, in {model.Id}'s lineage (compared before cleaning; near copies: {Rule}; record numbers {shown}{(near.Count > 10 ? ", …" : "")}); non-members must be records the model never trained on");
                }
            }
        }

        return entries;
    }

    // A file the manifest names, where it names it or in one of the folders, with the SHA-256 it records: compared
    // (found), changed (a file of that name with other content) or missing.
    private static (string? Path, string Status) Locate(string? file, string? sha256, IReadOnlyList<string> folders)
    {
        if (file is null || sha256 is null) return (null, InputMissing);
        var present = new[] { file }.Concat(folders.SelectMany(f => new[] { Path.Combine(f, file), Path.Combine(f, Path.GetFileName(file)) })).Where(File.Exists).ToList();
        return present.FirstOrDefault(c => Dsse.Sha256Of(c) == sha256) is { } found ? (found, InputCompared) : (null, present.Count > 0 ? InputChanged : InputMissing);
    }
}
