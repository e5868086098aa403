using System.Security.Cryptography;
using System.Text;
using Drydock.Datasets.Output;
using Drydock.Provenance.Signing;

namespace Drydock.Provenance.Registry;

/// <summary>What registering a dataset version did: the record, whether it was new, and the signature written (null when it existed).</summary>
public sealed record DatasetRegistered(DatasetRecord Dataset, bool Created, string? EnvelopePath, string? KeyId);

/// <summary>
/// Registering the dataset version a <c>drydock clean</c> manifest describes: <see cref="Check"/> reads the manifest
/// and finds each file it names, refusing one that changed since cleaning; <see cref="Register"/> signs every file
/// (MANIFEST.dsse.json beside the manifest) and records the version. The same version registered again is returned
/// as it is, unsigned again.
/// </summary>
public sealed class DatasetRegistration
{
    private readonly byte[] _json;
    private readonly List<Subject> _subjects;

    private DatasetRegistration(string manifestPath, byte[] json, DatasetManifest manifest, List<Subject> subjects)
    {
        ManifestPath = manifestPath;
        _json = json;
        Manifest = manifest;
        _subjects = subjects;
    }

    /// <summary>The manifest file.</summary>
    public string ManifestPath { get; }

    /// <summary>The manifest as read.</summary>
    public DatasetManifest Manifest { get; }

    /// <summary>The id the version has (or will have) in the registry.</summary>
    public string Id => RegistryIds.Dataset(Manifest.Version);

    /// <summary>Reads the manifest and checks every file it names against its SHA-256 (output, ledger, holdout, quarantine).</summary>
    public static DatasetRegistration Check(string manifestPath)
    {
        ArgumentNullException.ThrowIfNull(manifestPath);
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"{manifestPath}: no such file");
        var json = File.ReadAllBytes(manifestPath);
        var manifest = DatasetManifest.Parse(manifestPath, json);
        var directory = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var output = Locate(manifestPath, directory, manifest.Output, manifest.Version, "output");
        var ledger = Locate(manifestPath, directory, manifest.LedgerFile, manifest.LedgerSha256, "ledger");
        var holdout = manifest.HoldoutFile is null ? null : Locate(manifestPath, directory, manifest.HoldoutFile, manifest.HoldoutSha256!, "holdout");

        // Locate has just checked each file against the manifest's SHA-256: only the manifest itself is hashed here.
        string Name(string p) => Path.GetRelativePath(directory, Path.GetFullPath(p)).Replace('\\', '/');
        var subjects = new List<Subject> { new(Name(manifestPath), Convert.ToHexStringLower(SHA256.HashData(json))), new(Name(output), manifest.Version), new(Name(ledger), manifest.LedgerSha256) };
        if (holdout is not null) subjects.Add(new(Name(holdout), manifest.HoldoutSha256!));
        // Every file of the dataset version is signed, the quarantine too (verify refuses a signature that leaves one out).
        foreach (var (field, file, sha) in SignedCoverage.ManifestFiles(manifestPath, json).Where(f => f.Field == "quarantine"))
        {
            subjects.Add(new(Name(Locate(manifestPath, directory, file, sha, field)), sha));
        }

        return new DatasetRegistration(manifestPath, json, manifest, subjects);
    }

    /// <summary>
    /// Signs the version with the key at <paramref name="signingKeyPath"/> and records it as <paramref name="name"/>
    /// (default: the output file's name), deriving from <paramref name="parents"/> besides the registered inputs.
    /// </summary>
    public DatasetRegistered Register(ProvenanceRegistry registry, string? name, IReadOnlyList<string> parents, string signingKeyPath, string actor)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (registry.FindDataset(Id) is { } existing) return new DatasetRegistered(existing, false, null, null);
        var datasetName = name ?? Path.GetFileName(Manifest.Output);
        using var key = SigningKey.Load(signingKeyPath);
        var statement = Dsse.Statement(_subjects, Dsse.DatasetPredicate, w =>
        {
            w.WriteStartObject();
            w.WriteString("datasetId", Id);
            w.WriteString("datasetVersion", "sha256:" + Manifest.Version);
            w.WriteString("name", datasetName);
            w.WriteString("project", Manifest.Project);
            w.WriteString("useCase", Manifest.UseCase);
            w.WriteString("classification", Manifest.Classification);
            w.WriteString("registeredBy", actor);
            w.WriteEndObject();
        });
        var envelope = Dsse.Sign(statement, key);
        var envelopePath = ManifestPath + ".dsse.json";
        using (var file = new AtomicFile(envelopePath))
        {
            file.Stream.Write(envelope);
            file.Commit();
        }

        var (dataset, _) = registry.RegisterDataset(Manifest, Encoding.UTF8.GetString(_json), datasetName, parents, Encoding.UTF8.GetString(envelope), actor);
        return new DatasetRegistered(dataset, true, envelopePath, key.KeyId);
    }

    private static string Locate(string manifestPath, string directory, string recorded, string sha256, string field)
    {
        var candidates = new[] { recorded, Path.Combine(directory, recorded), Path.Combine(directory, Path.GetFileName(recorded)) };
        var found = candidates.FirstOrDefault(File.Exists) ?? throw new RegistryException($"{manifestPath}: field {field}.file: {recorded} not found (looked next to the manifest too)");
        if (Dsse.Sha256Of(found) != sha256) throw new RegistryException($"{manifestPath}: field {field}: {found} does not match the manifest's SHA-256 (it changed after drydock clean)");
        return found;
    }
}
