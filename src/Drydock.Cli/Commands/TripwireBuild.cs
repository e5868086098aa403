using System.Text.Json;
using Drydock.Cli.Infrastructure;
using Drydock.Datasets;
using Drydock.Datasets.Output;
using Drydock.Gateway.Guards;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Cli.Commands;

/// <summary>
/// Builds, at <c>drydock deploy</c>, the regurgitation tripwire's index for a model version from the training datasets
/// the registry's lineage names: each dataset's output file, found where its manifest says (or in the project) and
/// checked against the dataset version (its SHA-256); all its records, or with <c>tripwire-records: sensitive</c> those
/// its ledger names; the n-grams of the dataset's held-out split (checked against its SHA-256 likewise) are left out.
/// The index is written atomically to <c>.drydock/tripwire/&lt;model-version&gt;.idx</c> (owner only), read back for
/// that version, and recorded in the registry with its SHA-256. A model version without datasets, a dataset file or
/// held-out split missing or changed, or a record that cannot be read is refused with the reason.
/// </summary>
internal static class TripwireBuild
{
    public static TripwireIndexRecord Build(ProjectContext context, ProvenanceRegistry registry, ModelRecord model, string alias, string selection, string actor)
    {
        if (model.Datasets.Count == 0) throw new ArgumentException($"{model.Id} names no training datasets in the registry, so the regurgitation tripwire has nothing to check its answers against (a tier has regurgitation on)");
        var root = context.Root ?? Directory.GetCurrentDirectory();
        var datasets = model.Datasets.Select(registry.GetDataset).ToList();
        var records = new List<(string Id, string Text)>();
        var heldOut = new List<string>();
        foreach (var dataset in datasets)
        {
            var manifest = DatasetManifest.Parse($"the manifest of {dataset.Id}", System.Text.Encoding.UTF8.GetBytes(dataset.Manifest));
            var output = Locate(root, dataset, manifest.Output, dataset.Version, "training file");
            var sensitive = selection == "sensitive" ? LedgerRecords(Locate(root, dataset, manifest.LedgerFile, manifest.LedgerSha256, "ledger", Path.GetDirectoryName(output))) : null;
            foreach (var (id, text) in Read(output, dataset))
            {
                if (sensitive is null || sensitive.Contains(id)) records.Add(($"{dataset.Id}#{id}", text));
            }

            // The held-out split (never trained on, same kind of records): what its records hold is ordinary text of the
            // data, not a repeat of a training record, and is left out of the index.
            if (manifest.HoldoutFile is { } holdout)
            {
                heldOut.AddRange(Read(Locate(root, dataset, holdout, manifest.HoldoutSha256!, "held-out split", Path.GetDirectoryName(output)), dataset).Select(r => r.Text));
            }
        }

        var versions = datasets.Select(d => "sha256:" + d.Version).ToList();
        var index = RegurgitationIndex.Build(model.Id, versions, records, reference: heldOut);
        var relative = Path.Combine("tripwire", model.Id + ".idx");
        var path = Path.Combine(ProjectContext.StateFolder, relative);
        using (var file = new AtomicFile(path, ownerOnly: true))
        {
            index.Save(file.Stream);
            file.Commit();
        }

        // Read back as the gateway reads it: a file that does not load for this version is never recorded.
        using (var written = File.OpenRead(path)) RegurgitationIndex.Load(written, model.Id);
        return registry.RecordTripwireIndex(model.Id, alias, relative.Replace('\\', '/'), Dsse.Sha256Of(path), index.Records, versions, selection, actor);
    }

    /// <summary>
    /// Refuses to serve <paramref name="modelId"/> again (<c>deploy --enable</c>) unless the index recorded for it is
    /// there, has the SHA-256 recorded at deploy and was built for that version: the gateway would answer 503 otherwise.
    /// </summary>
    public static void Verify(ProvenanceRegistry registry, string modelId)
    {
        if (Gateway.Operations.ServeChecks.TripwireProblem(registry, ProjectContext.StateFolder, modelId) is { } problem) throw new ArgumentException(problem);
    }

    /// <summary>Whether a tier of the project's gateway checks answers against the training records (an index is then required).</summary>
    public static bool Required(ProjectContext context) =>
        new Gateway.GatewayOptions { Upstream = new Uri("http://127.0.0.1/") }.With(context.File["gateway"]).TripwireRequired;

    /// <summary>
    /// Refuses <c>incident contain --revert</c> unless the version it reverts to passes <see cref="Verify"/>, as
    /// <c>deploy --enable</c> does for the version it serves again. A refusal is a note on the incident (opened for it
    /// unless <paramref name="incidentId"/> names one) before it is reported; the alias stays as it was.
    /// </summary>
    public static void VerifyRevert(ProjectContext context, ProvenanceRegistry registry, string alias, string? reason, string? incidentId, string actor)
    {
        if (!Required(context)) return;
        if (Gateway.Operations.ServeChecks.RevertRefusal(registry, ProjectContext.StateFolder, alias, context.Approval, reason, incidentId, actor) is { } refused)
        {
            throw new ArgumentException($"{refused} (incident contain --model {alias})");
        }
    }

    // Each record's id (its id field, else line-N) and text (every field but id, role and from); a record that cannot be read is refused.
    private static List<(string Id, string Text)> Read(string file, Provenance.Registry.DatasetRecord dataset)
    {
        var records = new List<(string Id, string Text)>();
        try
        {
            var reader = new DatasetReader();
            foreach (var batch in reader.Read(file, reader.Detect(file)))
            {
                foreach (var result in batch.Parse())
                {
                    if (result.Record is not { } record) throw new ArgumentException($"{result.Problem!.File}:{result.Problem.Line}: {result.Problem.Reason} (dataset {dataset.Id})");
                    var id = record.Id ?? "line-" + record.Line.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var text = string.Join("\n", record.Fields.Where(f => !IsMetadata(f.Path)).Select(f => f.Text));
                    if (text.Length > 0) records.Add((id, text));
                }
            }
        }
        catch (DatasetException e)
        {
            throw new ArgumentException($"{e.Message} (dataset {dataset.Id})", e);
        }

        return records;
    }

    private static bool IsMetadata(string fieldPath)
    {
        var name = fieldPath[(fieldPath.LastIndexOf('.') + 1)..];
        return name is "id" or "role" or "from";
    }

    // The dataset's file as its manifest names it: as written (absolute, or relative to the project), or in the project
    // (or next to the training file) by its name; it must still be the bytes the dataset version names.
    private static string Locate(string root, Provenance.Registry.DatasetRecord dataset, string recorded, string sha256, string what, string? beside = null)
    {
        var candidates = new List<string> { Path.IsPathRooted(recorded) ? recorded : Path.Combine(root, recorded), Path.Combine(root, Path.GetFileName(recorded)) };
        if (beside is not null) candidates.Add(Path.Combine(beside, Path.GetFileName(recorded)));
        var found = candidates.FirstOrDefault(File.Exists) ?? throw new ArgumentException($"the {what} of dataset {dataset.Id} ({recorded}) is missing; the regurgitation tripwire's index cannot be built");
        if (Dsse.Sha256Of(found) != sha256) throw new ArgumentException($"{found} does not match the SHA-256 dataset {dataset.Id} recorded (it changed after it was registered); the regurgitation tripwire's index is not built from it");
        return found;
    }

    // The record ids the ledger names (a value redacted, pseudonymised, faked or otherwise acted on in them).
    private static HashSet<string> LedgerRecords(string ledger)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var line = 0;
        foreach (var text in File.ReadLines(ledger))
        {
            line++;
            if (text.Length == 0) continue;
            using var entry = JsonDocument.Parse(text);
            if (!entry.RootElement.TryGetProperty("recordId", out var id) || id.ValueKind != JsonValueKind.String)
            {
                throw new ArgumentException($"{ledger}:{line}: the ledger entry names no record id, so the sensitive records cannot be told apart (use gateway.tripwire-records: all)");
            }

            ids.Add(id.GetString()!);
        }

        return ids;
    }
}
