using System.Runtime.CompilerServices;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Drydock.Cli.Tests;

/// <summary>Runs the drydock command in-process from the test output folder, capturing both streams.</summary>
internal static class CliRunner
{
    public static Task<(int Exit, string Stdout, string Stderr)> Run(params string[] args) => RunIn(AppContext.BaseDirectory, args);

    /// <summary>Runs in <paramref name="directory"/> (the project folder: drydock.yaml and .drydock/ live there).</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunIn(string directory, params string[] args)
    {
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(directory);
        try
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var exit = await DrydockApp.RunAsync(args, stdout, stderr, TestContext.Current.CancellationToken);
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    /// <summary>The source folder of the test project (for approving golden files).</summary>
    public static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
