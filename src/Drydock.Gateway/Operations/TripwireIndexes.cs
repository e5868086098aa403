using System.Security.Cryptography;
using Drydock.Gateway.Guards;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Operations;

/// <summary>
/// The regurgitation tripwire indexes of the model versions deployments serve, loaded from the project's state folder
/// as the registry records them (<c>drydock deploy</c> writes the file and its SHA-256) and re-read when that record or
/// the file changes. A version whose index is not recorded, missing, of another SHA-256, damaged or built for another
/// version has none, with the reason: a tier that requires the tripwire answers 503 for it.
/// </summary>
internal sealed class TripwireIndexes(string stateFolder)
{
    private sealed record Loaded(string Sha256, DateTime Written, RegurgitationIndex? Index, string Problem);

    /// <summary>The project's state folder the index files are read from.</summary>
    public string StateFolder => stateFolder;

    private volatile Dictionary<string, Loaded> _byModel = new(StringComparer.Ordinal);

    /// <summary>The index of a model version, or null and why.</summary>
    public (RegurgitationIndex? Index, string Problem) For(string modelId) =>
        _byModel.TryGetValue(modelId, out var loaded) ? (loaded.Index, loaded.Problem) : (null, $"no tripwire index is loaded for {modelId} (is it deployed?)");

    /// <summary>Loads the indexes of <paramref name="modelIds"/> whose record or file changed since the last refresh.</summary>
    public void Refresh(ProvenanceRegistry registry, IEnumerable<string> modelIds)
    {
        var next = new Dictionary<string, Loaded>(StringComparer.Ordinal);
        foreach (var id in modelIds.Distinct(StringComparer.Ordinal))
        {
            if (registry.TripwireIndex(id) is not { } record)
            {
                next[id] = new Loaded("", default, null, $"no tripwire index was built for {id} (drydock deploy builds it while a tier has regurgitation on; deploy the version again)");
                continue;
            }

            var path = Path.GetFullPath(Path.Combine(stateFolder, record.File));
            var written = File.Exists(path) ? File.GetLastWriteTimeUtc(path) : default;
            next[id] = _byModel.TryGetValue(id, out var old) && old.Sha256 == record.Sha256 && old.Written == written ? old : Load(id, record, path, written);
        }

        _byModel = next;
    }

    private Loaded Load(string modelId, TripwireIndexRecord record, string path, DateTime written)
    {
        Loaded Refused(string why) => new(record.Sha256, written, null, why);
        if (!path.StartsWith(Path.GetFullPath(stateFolder) + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return Refused($"the recorded index file {record.File} is outside the state folder");
        if (!File.Exists(path)) return Refused($"the index file {path} is missing");
        try
        {
            using (var file = File.OpenRead(path))
            {
                if (Convert.ToHexStringLower(SHA256.HashData(file)) != record.Sha256) return Refused($"the index file {path} does not match the SHA-256 recorded at deploy (damaged or replaced)");
            }

            using var stream = new BufferedStream(File.OpenRead(path), 1 << 20);
            return new Loaded(record.Sha256, written, RegurgitationIndex.Load(stream, modelId), "");
        }
        catch (InvalidDataException e)
        {
            return Refused($"the index file {path} cannot be used: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Refused($"the index file {path} cannot be read: {e.Message}");
        }
    }
}
