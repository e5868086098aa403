using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// State and input at the edges, through the built CLI in its own process: symbolic links in a scanned model folder,
/// a registry location that is a URL of another scheme, a redaction key in the environment that is not a key, and a
/// gateway started on a registry put back from an older copy.
/// </summary>
public sealed class StateEdgesTests : IDisposable
{
    private static readonly Dictionary<string, string?> s_noKey = new() { ["DRYDOCK_REDACTION_KEY"] = null };

    private readonly TempDir _dir = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private Task<ProcessResult> Drydock(IReadOnlyDictionary<string, string?>? environment, params string[] args) =>
        DrydockProcess.Run(_dir.Path, args, environment ?? s_noKey, timeout: TimeSpan.FromSeconds(90), cancellationToken: TestContext.Current.CancellationToken);

    private Task<ProcessResult> Drydock(params string[] args) => Drydock(null, args);

    [Fact]
    public async Task ModelScan_ASymbolicLinkInTheFolderOrGiven_IsRefusedNamingIt_NeverFollowed()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("symbolic links");
        _dir.File("model/config.json", "{}");
        // The link points outside the folder, at a pickle that runs a command: followed, it would be scanned as the model's.
        _dir.File("elsewhere/evil.bin", System.Text.Encoding.Latin1.GetString([0x80, 2, .. "cos\nsystem\n"u8.ToArray(), 0x8c, 2, .. "id"u8.ToArray(), 0x85, (byte)'R', (byte)'.']));
        File.CreateSymbolicLink(Path.Combine(_dir.Path, "model", "weights.bin"), Path.Combine(_dir.Path, "elsewhere", "evil.bin"));

        var linked = await Drydock("model", "scan", "model");
        Assert.True(linked.Exit == 2, linked.ToString());
        Assert.Contains("model/weights.bin: a symbolic link", linked.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("os.system", linked.Stdout, StringComparison.Ordinal);

        // A loop (a folder linking to its parent) is refused at once, never walked.
        File.Delete(Path.Combine(_dir.Path, "model", "weights.bin"));
        Directory.CreateSymbolicLink(Path.Combine(_dir.Path, "model", "loop"), Path.Combine(_dir.Path, "model"));
        var loop = await Drydock("model", "scan", "model");
        Assert.True(loop.Exit == 2, loop.ToString());
        Assert.Contains("model/loop: a symbolic link", loop.Stderr, StringComparison.Ordinal);

        // A link given by name is refused too.
        File.CreateSymbolicLink(Path.Combine(_dir.Path, "direct.bin"), Path.Combine(_dir.Path, "elsewhere", "evil.bin"));
        var direct = await Drydock("model", "scan", "direct.bin");
        Assert.True(direct.Exit == 2, direct.ToString());
        Assert.Contains("direct.bin: a symbolic link", direct.Stderr, StringComparison.Ordinal);

        // Without links, the folder scans.
        Directory.Delete(Path.Combine(_dir.Path, "model", "loop"));
        Assert.Equal(0, (await Drydock("model", "scan", "model")).Exit);
    }

    // A registry named by --registry or DRYDOCK_REGISTRY that is not there is refused, never created empty: a typo would
    // otherwise contain a model (exit 0) in a registry the running gateway never reads.
    [Fact]
    public async Task ARegistryNamedThatDoesNotExist_IsRefused_NothingIsCreated()
    {
        Assert.Equal(0, (await Drydock("init")).Exit);
        var typo = Path.Combine(_dir.Path, ".drydock", "regsitry.db");
        var byOption = await Drydock("incident", "contain", "--model", "support", "--registry", typo);
        Assert.True(byOption.Exit == 2, byOption.ToString());
        Assert.Contains("there is no registry at", byOption.Stderr, StringComparison.Ordinal);
        Assert.Contains("(--registry)", byOption.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(typo));

        var byEnvironment = await Drydock(new Dictionary<string, string?> { ["DRYDOCK_REDACTION_KEY"] = null, ["DRYDOCK_REGISTRY"] = typo }, "audit", "verify");
        Assert.True(byEnvironment.Exit == 2, byEnvironment.ToString());
        Assert.Contains("(DRYDOCK_REGISTRY)", byEnvironment.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(typo));
    }

    [Theory]
    [InlineData("file:/tmp/drydock-registry.db", "file:")]
    [InlineData("sqlite:registry.db", "sqlite:")]
    [InlineData("https://registry.example/db", "https:")]
    public async Task ARegistryLocationOfAnotherScheme_IsRefused_NoRegistryIsCreated(string location, string scheme)
    {
        Assert.Equal(0, (await Drydock("init")).Exit);
        var before = Directory.GetFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

        var result = await Drydock("audit", "verify", "--registry", location);
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains($"is a URL of scheme '{scheme}', which is not a registry", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());

        var fromEnvironment = await Drydock(new Dictionary<string, string?> { ["DRYDOCK_REDACTION_KEY"] = null, ["DRYDOCK_REGISTRY"] = location }, "audit", "verify");
        Assert.True(fromEnvironment.Exit == 2, fromEnvironment.ToString());
        Assert.Equal(before, Directory.GetFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());
    }

    [Theory]
    [InlineData("00112233445566778899aabbccddeeff")]
    [InlineData("hunter2")]
    [InlineData("c2VjcmV0")]
    [InlineData("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeffff")]
    public async Task Clean_ARedactionKeyInTheEnvironmentThatIsNot32Bytes_IsRefusedNamingTheVariableNotTheValue(string value)
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir.Path, "tickets.jsonl"));
        var result = await Drydock(new Dictionary<string, string?> { ["DRYDOCK_REDACTION_KEY"] = value }, "clean", "tickets.jsonl", "-o", "out.jsonl");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("$DRYDOCK_REDACTION_KEY is not a redaction key", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(value, result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.jsonl")));

        // 32 bytes as 64 hex digits or as base64 are keys.
        var hex = await Drydock(new Dictionary<string, string?> { ["DRYDOCK_REDACTION_KEY"] = Convert.ToHexString(new byte[32]) }, "clean", "tickets.jsonl", "-o", "hex.jsonl", "--allow-malformed");
        Assert.True(hex.Exit == 0, hex.ToString());
        var base64 = await Drydock(new Dictionary<string, string?> { ["DRYDOCK_REDACTION_KEY"] = Convert.ToBase64String(new byte[32]) }, "clean", "tickets.jsonl", "-o", "b64.jsonl", "--allow-malformed");
        Assert.True(base64.Exit == 0, base64.ToString());
        Assert.Equal(File.ReadAllText(Path.Combine(_dir.Path, "hex.jsonl")), File.ReadAllText(Path.Combine(_dir.Path, "b64.jsonl")));
    }

    [Fact]
    public async Task Serve_OnARegistryPutBackFromAnOlderCopy_IsRefusedAtStart()
    {
        Assert.Equal(0, (await Drydock("init")).Exit);
        Assert.Equal(0, (await Drydock("keys", "create", "--name", "first")).Exit);
        Assert.Equal(0, (await Drydock("audit", "verify")).Exit);
        var state = Path.Combine(_dir.Path, ".drydock");
        var copy = Path.Combine(_dir.Path, "old-drydock");
        CopyFolder(state, copy);

        // A change after the copy, witnessed outside the project.
        var created = await Drydock("keys", "create", "--name", "ci");
        Assert.True(created.Exit == 0, created.ToString());
        Assert.Equal(0, (await Drydock("audit", "verify")).Exit);

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(state, recursive: true);
        CopyFolder(copy, state);

        var served = await DrydockProcess.Run(_dir.Path, ["serve", "--upstream", "http://127.0.0.1:9/v1", "--listen", $"http://127.0.0.1:{DrydockProcess.FreePort()}"], s_noKey, timeout: TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(served.Exit == 2, served.ToString());
        Assert.Contains("the audit log was rolled back", served.Stderr, StringComparison.Ordinal);
        Assert.Contains("the gateway does not serve from it", served.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening on", served.Stderr, StringComparison.Ordinal);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }

        if (!OperatingSystem.IsWindows())
        {
            foreach (var folder in Directory.GetDirectories(from, "*", SearchOption.AllDirectories).Prepend(from))
            {
                File.SetUnixFileMode(Path.Combine(to, Path.GetRelativePath(from, folder)), File.GetUnixFileMode(folder));
            }
        }
    }
}
