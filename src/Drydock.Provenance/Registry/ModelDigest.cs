using System.Security.Cryptography;
using System.Text;
using Drydock.Provenance.Signing;

namespace Drydock.Provenance.Registry;

/// <summary>
/// The files of a model and its digest: for a file, its SHA-256; for a folder, the SHA-256 of the
/// <c>sha256sum</c>-style listing ("HASH  relative/path\n", sorted by path) of every file in it.
/// </summary>
public static class ModelDigest
{
    /// <summary>Hashes <paramref name="target"/> (a file or a folder).</summary>
    public static (List<ModelFile> Files, string Digest) Of(string target)
    {
        if (File.Exists(target))
        {
            var sha = Dsse.Sha256Of(target);
            return ([new ModelFile(Path.GetFileName(target), sha, new FileInfo(target).Length)], sha);
        }

        if (!Directory.Exists(target)) throw new FileNotFoundException($"{target}: no such file or folder");
        var files = Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
            .Select(f => (Relative: Path.GetRelativePath(target, f).Replace('\\', '/'), Full: f))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .Select(f => new ModelFile(f.Relative, Dsse.Sha256Of(f.Full), new FileInfo(f.Full).Length)).ToList();
        if (files.Count == 0) throw new ArgumentException($"{target} holds no files");
        var listing = string.Concat(files.Select(f => $"{f.Sha256}  {f.Path}\n"));
        return (files, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing))));
    }
}
