using Drydock.Tests.Shared;
using Drydock.Datasets.Input;

namespace Drydock.Datasets.Tests.Input;

public class InputFilesTests
{
    [Fact]
    public void Resolve_DirectoryGlobAndMissing()
    {
        using var dir = new TempDir();
        var a = dir.File("data/a.jsonl", "{}");
        var b = dir.File("data/sub/b.csv.gz", "x");
        dir.File("data/readme.md", "x");

        var (files, errors) = InputFiles.Resolve([Path.Combine(dir.Path, "data")]);
        Assert.Equal([a, b], files);
        Assert.Empty(errors);

        (files, _) = InputFiles.Resolve([Path.Combine(dir.Path, "data", "**", "*.gz")]);
        Assert.Equal([b], files);

        (files, errors) = InputFiles.Resolve([Path.Combine(dir.Path, "nope.jsonl")]);
        Assert.Empty(files);
        Assert.Contains("no such file or directory", Assert.Single(errors), StringComparison.Ordinal);
    }
}
