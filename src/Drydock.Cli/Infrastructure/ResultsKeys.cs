using Drydock.Evaluation;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Infrastructure;

/// <summary>The key evaluation results files are sealed with (eval writes under it; gate and monitor evaluate read under it).</summary>
internal static class ResultsKeys
{
    /// <summary>
    /// The key results files are sealed with: the registry's results key, kept outside the project beside the audit
    /// witness (<see cref="ResultsFile.KeyPath"/>); created for a run (<paramref name="resultsPath"/> given), only
    /// read for the gate (null when absent). Without a project or registry, beside the results (results no registry
    /// records). A key inside the project (earlier versions kept it there) is refused, saying how to move it out.
    /// </summary>
    public static byte[]? Load(ProjectContext project, string? resultsPath, ProvenanceRegistry? open = null)
    {
        string? location;
        try
        {
            location = project.RegistryLocation;
        }
        catch (NoProjectException)
        {
            location = null;
        }

        if (location is null)
        {
            return resultsPath is null ? null : ResultsFile.LoadKey(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(resultsPath))!, ".drydock-results.key"), create: true);
        }

        using var opened = open is null ? project.OpenRegistry() : null;
        if (Provenance.Audit.AuditWitness.FolderProblem((open ?? opened!).Database, project.Root) is { } outside) throw new Provenance.KeyRingException(outside);
        var path = ResultsFile.KeyPath((open ?? opened!).Database);
        if (project.Root is { } root && Path.Combine(root, ResultsFile.ProjectKeyPath) is var local && (File.Exists(local) || new FileInfo(local).LinkTarget is not null))
        {
            throw new Provenance.KeyRingException($"{local}: a results key inside the project is refused: anyone who can write the project could reseal a forged results file with it. " +
                (File.Exists(path) ? $"This registry's key is already at {path}; remove {local}" : $"Move it out of the project (runs sealed under it keep counting): mkdir -m 700 -p {Path.GetDirectoryName(path)} && mv {local} {path}"));
        }

        return ResultsFile.LoadKey(path, create: resultsPath is not null);
    }
}
