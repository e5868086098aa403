using System.Runtime.InteropServices;

namespace Drydock.Cli.Infrastructure;

// ProjectGuard: whether the project's state folder (.drydock/) escapes the project — links leading out, mount points, hard links.
internal static partial class ProjectGuard
{
    /// <summary>
    /// Why the current project's state cannot be trusted to be its own, or null: in a protected project
    /// (<paramref name="isProtected"/>), a link at any depth in <c>.drydock/</c> whose target (links resolved) lies outside
    /// that folder; in any project, a mount point inside <c>.drydock/</c> (a bind mount brings another folder's files in
    /// without a link), and any file with more than one hard link: registry, keys, vault, request logs, ledgers, results
    /// are all read and changed only through verbs that check roles and record what they do, and a second name reaches
    /// the same file without them (docs/identity.md, "Hard links", says why for each).
    /// </summary>
    public static string? StateEscape(string root, bool isProtected)
    {
        var state = Path.Combine(root, ProjectContext.StateFolderName);
        var folder = new DirectoryInfo(state);
        if (!folder.Exists && folder.LinkTarget is null) return null;
        string real;
        try
        {
            real = RealPath(state);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the state folder {state} cannot be resolved ({e.Message})";
        }

        var rootMount = Statx(root) is { } r ? r.MountId : null;
        var pending = new Stack<string>([state]);
        while (pending.Count > 0)
        {
            var path = pending.Pop();
            var info = new DirectoryInfo(path);
            if (info.LinkTarget is not null || (path == state && folder.LinkTarget is not null))
            {
                if (!isProtected) continue; // traced to the project it reaches instead (StateThroughLinks)
                string target;
                try
                {
                    target = RealPath(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return $"{path} is a link that cannot be resolved ({e.Message})";
                }

                if (path == state || !(target == real || target.StartsWith(real + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
                {
                    return $"{path} is a link to {target}, outside the project's state folder {state}; a protected project's state stays in its own .drydock/ (replace the link with the folder or file itself)";
                }

                continue;
            }

            var stat = Statx(path);
            if (stat is { MountId: { } mount } && rootMount is { } expected && mount != expected)
            {
                return $"{path} is a mount point (a bind mount or another file system) inside the project's state folder; Drydock's state is not taken from another folder this way (unmount it)";
            }

            if (stat is { IsFolder: false, Links: > 1 })
            {
                return $"{path} has {stat.Value.Links} hard links: the same file is reachable from elsewhere (another project's state, or a copy that is not one); Drydock refuses a state file that is not this project's alone (remove the other name, or copy the file instead: cp, not ln)";
            }

            if (stat is { IsFolder: true } || (stat is null && Directory.Exists(path)))
            {
                try
                {
                    foreach (var entry in Directory.EnumerateFileSystemEntries(path)) pending.Push(entry);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return $"{path} cannot be listed ({e.Message}), so whether it leaves the project's state cannot be told";
                }
            }
        }

        return null;
    }

    private readonly record struct FileStat(uint Links, bool IsFolder, ulong? MountId);

    // statx(2) without following a final link (Linux; the layout is the same on every architecture): the link count
    // (stx_nlink, offset 16), the type (stx_mode, offset 28) and, from Linux 5.8, the mount id (stx_mnt_id, offset 144).
    private static FileStat? Statx(string path)
    {
        if (!OperatingSystem.IsLinux() || path.Contains('\0', StringComparison.Ordinal)) return null;
        const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
        const uint StatxType = 0x1, StatxNlink = 0x4, StatxMntId = 0x1000;
        var buffer = new byte[256];
        if (StatxCall(AtFdCwd, System.Text.Encoding.UTF8.GetBytes(path + "\0"), AtSymlinkNoFollow, StatxType | StatxNlink | StatxMntId, buffer) != 0) return null;
        var mask = BitConverter.ToUInt32(buffer, 0);
        var links = BitConverter.ToUInt32(buffer, 16);
        var folder = (BitConverter.ToUInt16(buffer, 28) & 0xF000) == 0x4000;
        return new FileStat(links, folder, (mask & StatxMntId) != 0 ? BitConverter.ToUInt64(buffer, 144) : null);
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int StatxCall(int dirfd, byte[] path, int flags, uint mask, byte[] buffer);
}
