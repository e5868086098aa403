using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// One project root, found like git finds a repository: a verb run in a subfolder acts on the enclosing project and
/// says which; outside any project a verb that reads or changes state refuses (exit 2) and creates nothing.
/// The built CLI in its own process, as users run it.
/// </summary>
public sealed class ProjectRootTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private Task<ProcessResult> Run(string folder, params string[] args) =>
        DrydockProcess.Run(folder, args, environment: new Dictionary<string, string?> { ["DRYDOCK_REGISTRY"] = null }, cancellationToken: TestContext.Current.CancellationToken);

    [Fact]
    public async Task IncidentContain_FromASubfolder_ActsOnTheEnclosingProject()
    {
        var project = Path.Combine(_dir.Path, "project");
        var sub = Path.Combine(project, "data", "raw");
        Directory.CreateDirectory(sub);
        Assert.Equal(0, (await Run(project, "init")).Exit);
        var created = await Run(project, "keys", "create", "--name", "app");
        Assert.True(created.Exit == 0, created.ToString());
        var keyId = System.Text.RegularExpressions.Regex.Match(created.Stderr, @"created (\S+) \(").Groups[1].Value;
        Assert.NotEmpty(keyId);

        var contain = await Run(sub, "incident", "contain", "--key", keyId, "--reason", "leaked in a ticket");
        Assert.True(contain.Exit == 0, contain.ToString());
        Assert.Contains($"drydock: project {project}", contain.Stderr, StringComparison.Ordinal);
        Assert.Single(contain.Stderr.Split('\n'), l => l.StartsWith("drydock: project", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(sub, ".drydock")), "no state is made in the subfolder");
        var list = await Run(project, "keys", "list");
        Assert.Contains("revoked", list.Stdout, StringComparison.Ordinal);
        var timeline = await Run(project, "incident", "list");
        Assert.Contains(keyId, timeline.Stdout, StringComparison.Ordinal);

        // The kill switch from the subfolder lands in the project's registry, which a gateway of the project reads.
        var model = await Run(sub, "incident", "contain", "--model", "support", "--reason", "leaking");
        Assert.True(model.Exit == 0, model.ToString());
        Assert.Contains($"drydock: project {project}", model.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(sub, ".drydock")));
        var deployments = await Run(project, "deploy");
        Assert.Matches(@"support\s+DISABLED", deployments.Stdout);
    }

    [Theory]
    [InlineData("incident", "contain", "--model", "support")]
    [InlineData("incident", "contain", "--key", "ddk_abc")]
    [InlineData("keys", "create", "--name", "app")]
    [InlineData("keys", "list")]
    [InlineData("audit", "verify")]
    [InlineData("deploy")]
    [InlineData("canary", "create", "--label", "x")]
    [InlineData("dataset", "list")]
    public async Task OutsideAnyProject_StateVerbsRefuse_AndCreateNothing(params string[] args)
    {
        var lone = Path.Combine(_dir.Path, "lone");
        Directory.CreateDirectory(lone);
        var result = await Run(lone, args);
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("no Drydock project", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("drydock init", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(lone));
    }

    [Fact]
    public async Task Scan_FromASubfolder_UsesTheProjectFile()
    {
        var sub = Path.Combine(_dir.Path, "data");
        Directory.CreateDirectory(sub);
        _dir.File("drydock.yaml", "rules:\n  - id: ACME-1\n    category: secret\n    type: acme-token\n    severity: critical\n    pattern: 'acme_[a-z0-9]{20}'\n    keywords: [acme_]\n");
        _dir.File("data/d.jsonl", """{"prompt": "acme_k3j4h5g6f7d8s9a0p1o2", "completion": "ok"}""" + "\n");
        var scan = await Run(sub, "scan", "d.jsonl", "--format", "json");
        Assert.True(scan.Exit == 1, scan.ToString());
        Assert.Contains("acme-token", scan.Stdout, StringComparison.Ordinal);
        Assert.Contains($"drydock: project {_dir.Path}", scan.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANestedDrydockYaml_WithoutStateOfItsOwn_IsRefusedForStateVerbs_AndNamedWhenInitialised()
    {
        var project = Path.Combine(_dir.Path, "project");
        var nested = Path.Combine(project, "samples", "copy");
        Directory.CreateDirectory(nested);
        Assert.Equal(0, (await Run(project, "init")).Exit);
        File.WriteAllText(Path.Combine(nested, "drydock.yaml"), "project: copied-sample\n");

        // A state verb would start an empty registry in the nested folder: refused, nothing made.
        var list = await Run(nested, "incident", "list");
        Assert.True(list.Exit == 2, list.ToString());
        Assert.Contains($"inside the project {project}", list.Stderr, StringComparison.Ordinal);
        Assert.Contains("drydock init", list.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(nested, ".drydock")), "no state is made in the nested folder");

        // Made a project on purpose: used, and the announcement says it is nested.
        Assert.Equal(0, (await Run(nested, "init")).Exit);
        var again = await Run(nested, "incident", "list");
        Assert.True(again.Exit == 0, again.ToString());
        Assert.Contains($"drydock: project {nested} (nested inside the project {project}; the nearest is used)", again.Stderr, StringComparison.Ordinal);
    }
}
