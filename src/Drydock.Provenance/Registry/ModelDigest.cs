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
        var files = Walk(target)
            .Select(f => (Relative: Path.GetRelativePath(target, f).Replace('\\', '/'), Full: f))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .Select(f => new ModelFile(f.Relative, Dsse.Sha256Of(f.Full), new FileInfo(f.Full).Length)).ToList();
        if (files.Count == 0) throw new ArgumentException($"{target} holds no files");
        var listing = string.Concat(files.Select(f => $"{f.Sha256}  {f.Path}\n"));
        return (files, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing))));
    }

    // Every file under a model folder, links not followed: a symbolic link (to a file or a folder, inside or outside,
    // a loop included) is refused, as verify refuses it, so what is hashed is what lies in the folder, read once.
    private static List<string> Walk(string folder)
    {
        var files = new List<string>();
        var pending = new Stack<DirectoryInfo>([new DirectoryInfo(folder)]);
        while (pending.Count > 0)
        {
            foreach (var entry in pending.Pop().EnumerateFileSystemInfos())
            {
                if (entry.LinkTarget is not null)
                {
                    throw new ArgumentException($"{entry.FullName}: a symbolic link in the model folder; Drydock registers and verifies the files themselves (copy the folder with 'cp -rL' to resolve links)");
                }

                if (entry is DirectoryInfo sub) pending.Push(sub);
                else if (Detection.Configuration.RegularFiles.Problem(entry.FullName) is { } problem) throw new ArgumentException($"{entry.FullName}: {problem}");
                else files.Add(entry.FullName);
            }
        }

        return files;
    }
}
