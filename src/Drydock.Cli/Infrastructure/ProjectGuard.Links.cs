namespace Drydock.Cli.Infrastructure;

// ProjectGuard: the links in the project's state folder (.drydock/) and the projects they reach.
internal static partial class ProjectGuard
{
    /// <summary>
    /// The links in the current project's state: its <c>.drydock/</c> folder itself when it is a link, and every link
    /// at any depth below it (links are not followed) — <c>.drydock/keys -> P/.drydock/keys</c>,
    /// <c>.drydock/gateway/requests/2026 -> ...</c>. Each is traced (links resolved) to the project that owns what it
    /// reaches, so a verb writing the state "of this folder" through such a link is decided by that project.
    /// </summary>
    public static IEnumerable<string> StateThroughLinks()
    {
        var root = ProjectContext.FindRoot(Directory.GetCurrentDirectory());
        if (root is null) return [];
        var state = Path.Combine(root, ProjectContext.StateFolderName);
        var found = new List<string>();
        try
        {
            var folder = new DirectoryInfo(state);
            if (folder.LinkTarget is not null) return [state]; // the whole state folder is another's (or a folder elsewhere)
            if (!folder.Exists) return [];
            var pending = new Stack<DirectoryInfo>([folder]);
            while (pending.Count > 0)
            {
                foreach (var entry in pending.Pop().EnumerateFileSystemInfos())
                {
                    if (entry.LinkTarget is not null) found.Add(entry.FullName);
                    else if (entry is DirectoryInfo sub) pending.Push(sub);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            found.Add(state); // a state folder that cannot be listed: traced as a whole (its project decides)
        }

        return found;
    }
}
