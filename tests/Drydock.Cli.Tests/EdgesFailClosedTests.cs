using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// State, configuration and input at the edges fail closed, through the built CLI in its own process: files that are
/// not regular files (a FIFO, a device), a redaction key file anyone can read, a signed file swapped for a link, key
/// names and lifetimes out of bounds, symbolic link loops in a model folder.
/// </summary>
public sealed class EdgesFailClosedTests : IDisposable
{
    private static readonly Dictionary<string, string?> s_noKey = new() { ["DRYDOCK_REDACTION_KEY"] = null };

    private readonly TempDir _dir = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private Task<ProcessResult> Drydock(params string[] args) => DrydockProcess.Run(_dir.Path, args, s_noKey, timeout: TimeSpan.FromSeconds(90), cancellationToken: TestContext.Current.CancellationToken);

    private static void NoStackTrace(ProcessResult result) => Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);

    private void Tickets() => File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "support-tickets.jsonl"), Path.Combine(_dir.Path, "tickets.jsonl"));

    private async Task<string> RegisteredDataset()
    {
        Tickets();
        var key = new Dictionary<string, string?> { ["DRYDOCK_REDACTION_KEY"] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" };
        foreach (var args in new[] { new[] { "init" }, ["clean", "tickets.jsonl", "-o", "clean.jsonl", "--allow-malformed"], ["dataset", "register", "clean.jsonl.manifest.json"] })
        {
            var step = await DrydockProcess.Run(_dir.Path, args, key, cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(step.Exit == 0, step.ToString());
            if (args[0] == "dataset") return step.Stdout.Split(' ')[0];
        }

        throw new InvalidOperationException("unreachable");
    }

    [Fact]
    public async Task Scan_AFifoOrADevice_IsRefusedAtOnceWithExit2()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("FIFOs and /dev/zero");
        ProjectFileTests.Fifo(Path.Combine(_dir.Path, "pipe.jsonl"));

        var fifo = await Drydock("scan", "pipe.jsonl");
        Assert.True(fifo.Exit == 2, fifo.ToString());
        Assert.Contains("pipe.jsonl: not a regular file (a FIFO (named pipe))", fifo.Stderr, StringComparison.Ordinal);
        NoStackTrace(fifo);

        var zero = await Drydock("scan", "/dev/zero");
        Assert.True(zero.Exit == 2, zero.ToString());
        Assert.Contains("/dev/zero: not a regular file (a character device)", zero.Stderr, StringComparison.Ordinal);

        // In a folder too: the FIFO is named, never opened.
        Directory.CreateDirectory(Path.Combine(_dir.Path, "data"));
        ProjectFileTests.Fifo(Path.Combine(_dir.Path, "data", "b.jsonl"));
        _dir.File("data/a.jsonl", "{\"prompt\": \"hi\", \"completion\": \"hello\"}\n");
        var folder = await Drydock("scan", "data");
        Assert.True(folder.Exit == 2, folder.ToString());
        Assert.Contains("b.jsonl: not a regular file", folder.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_AnApiKeyFileThatIsAFifo_StopsWithExit2_NotAHang()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("FIFOs");
        Assert.Equal(0, (await Drydock("init")).Exit);
        var keys = Path.Combine(_dir.Path, ".drydock", "keys");
        Directory.CreateDirectory(keys);
        ProjectFileTests.Fifo(Path.Combine(keys, "api-keys.json"));
        File.SetUnixFileMode(Path.Combine(keys, "api-keys.json"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var serve = await Drydock("serve", "--upstream", "http://127.0.0.1:9/v1", "--listen", $"http://127.0.0.1:{DrydockProcess.FreePort()}");
        Assert.True(serve.Exit == 2, serve.ToString());
        Assert.Contains("api-keys.json: not a regular file (a FIFO (named pipe))", serve.Stderr, StringComparison.Ordinal);
        var create = await Drydock("keys", "create", "--name", "ci");
        Assert.True(create.Exit == 2, create.ToString());
    }

    [Fact]
    public async Task Clean_KeyFile_MustBeOwnerOnlyRegularAndAKey()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("Unix modes");
        Tickets();
        Assert.Equal(0, (await Drydock("init")).Exit);
        var key = Path.Combine(_dir.Path, "redaction.key");
        File.WriteAllBytes(key, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var open = await Drydock("clean", "tickets.jsonl", "-o", "out.jsonl", "--key-file", "redaction.key");
        Assert.True(open.Exit == 2, open.ToString());
        Assert.Contains("mode 0644; a key file must be readable by its owner only", open.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.jsonl")));

        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        var ok = await Drydock("clean", "tickets.jsonl", "-o", "out.jsonl", "--key-file", "redaction.key", "--allow-malformed");
        Assert.True(ok.Exit is 0 or 1, ok.ToString());

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(key, "password\n");
        var weak = await Drydock("clean", "tickets.jsonl", "-o", "out2.jsonl", "--key-file", "redaction.key");
        Assert.True(weak.Exit == 2, weak.ToString());
        Assert.Contains("not a redaction key", weak.Stderr, StringComparison.Ordinal);

        File.WriteAllText(key, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        var hex = await Drydock("clean", "tickets.jsonl", "-o", "out3.jsonl", "--key-file", "redaction.key", "--allow-malformed");
        Assert.True(hex.Exit is 0 or 1, hex.ToString());

        var device = await Drydock("clean", "tickets.jsonl", "-o", "out4.jsonl", "--key-file", "/dev/zero");
        Assert.True(device.Exit == 2, device.ToString());
        Assert.Contains("not a regular file", device.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ASignedFileReplacedByALinkToACopy_Fails()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("symbolic links");
        await RegisteredDataset();
        Assert.Equal(0, (await Drydock("verify", "clean.jsonl.manifest.json")).Exit);
        using var outside = new TempDir();
        var copy = Path.Combine(outside.Path, "clean.jsonl");
        File.Copy(Path.Combine(_dir.Path, "clean.jsonl"), copy);
        File.Delete(Path.Combine(_dir.Path, "clean.jsonl"));
        File.CreateSymbolicLink(Path.Combine(_dir.Path, "clean.jsonl"), copy);

        var linked = await Drydock("verify", "clean.jsonl.manifest.json");
        Assert.True(linked.Exit == 1, linked.ToString());
        Assert.Contains("'clean.jsonl' is a symbolic link", linked.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelRegister_ASymbolicLinkLoopInTheFolder_IsRefusedWithExit2()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("symbolic links");
        var dataset = await RegisteredDataset();
        _dir.File("adapter/adapter_config.json", "{\"r\": 8}");
        Directory.CreateSymbolicLink(Path.Combine(_dir.Path, "adapter", "loop"), Path.Combine(_dir.Path, "adapter"));

        var result = await Drydock("model", "register", "adapter", "--dataset", dataset, "--base-model", "tiny-base@sha256:00");
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains("loop: a symbolic link in the model folder", result.Stderr, StringComparison.Ordinal);
        NoStackTrace(result);
    }

    [Theory]
    [InlineData("--tier", "godmode", "--tier 'godmode': no such tier; tiers: default, internal, public")]
    [InlineData("--name", "ci\nrevoked ddk_00000000", "--name: must hold printable characters only")]
    [InlineData("--name", "a-name-that-is-far-too-long-for-a-key-a-name-that-is-far-too-long-for-a-key", "--name: must be at most 64 characters")]
    [InlineData("--expires", "99999999d", "--expires '99999999d': at most 3650d")]
    [InlineData("--expires", "3651d", "--expires '3651d': at most 3650d")]
    [InlineData("--models", "", "--models names no model")]
    [InlineData("--models", ",,", "--models names no model")]
    public async Task KeysCreate_OutOfBounds_IsRefusedWithExit2(string option, string value, string message)
    {
        Assert.Equal(0, (await Drydock("init")).Exit);
        string[] args = option == "--name" ? ["keys", "create", "--name", value] : ["keys", "create", "--name", "ci", option, value];
        var result = await Drydock(args);
        Assert.True(result.Exit == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        NoStackTrace(result);
    }

    [Fact]
    public async Task KeysCreate_AdminWithATier_IsRefused_AndRevokeTakesTheWholeKey()
    {
        Assert.Equal(0, (await Drydock("init")).Exit);
        var admin = await Drydock("keys", "create", "--name", "ops", "--admin", "--tier", "public");
        Assert.True(admin.Exit == 2, admin.ToString());
        Assert.Contains("--admin with --tier", admin.Stderr, StringComparison.Ordinal);
        Assert.Empty(admin.Stdout);

        var created = await Drydock("keys", "create", "--name", "ci");
        Assert.True(created.Exit == 0, created.ToString());
        var key = created.Stdout.Trim();
        var revoked = await Drydock("keys", "revoke", key);
        Assert.True(revoked.Exit == 0, revoked.ToString());
        Assert.Equal($"revoked {key[4..].Split('_')[0]}", revoked.Stdout.Trim());
        Assert.DoesNotContain(key, revoked.Stdout + revoked.Stderr, StringComparison.Ordinal);
    }

    private static byte[] ZstdFrame(string text)
    {
        using var buffer = new MemoryStream();
        using (var zstd = new ZstdSharp.CompressionStream(buffer, level: 3, leaveOpen: true)) zstd.Write(System.Text.Encoding.UTF8.GetBytes(text));
        return buffer.ToArray();
    }

    [Fact]
    public async Task Scan_AZstdFileOfSeveralFrames_IsRefused_SoACutBetweenFramesCannotPassAsWhole()
    {
        const string Record = "{\"prompt\": \"opening hours?\", \"completion\": \"nine to five\"}\n";
        _dir.File("one.jsonl.zst", ZstdFrame(Record + Record));
        var one = await Drydock("scan", "one.jsonl.zst");
        Assert.True(one.Exit == 0, one.ToString());

        // Two frames: whole, yet the same bytes as a three-frame file cut after its second frame.
        _dir.File("two.jsonl.zst", [.. ZstdFrame(Record), .. ZstdFrame(Record)]);
        var two = await Drydock("scan", "two.jsonl.zst");
        Assert.True(two.Exit == 2, two.ToString());
        Assert.Contains("two.jsonl.zst: cannot read (zstd): the file holds several zstd frames", two.Stderr, StringComparison.Ordinal);
        NoStackTrace(two);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var folder in Directory.GetDirectories(from)) CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
    }

    [Fact]
    public async Task AuditVerify_TheWholeDrydockFolderPutBackFromAnOlderCopy_IsDetectedByTheWitness()
    {
        using var state = new TempDir();
        var environment = new Dictionary<string, string?> { ["DRYDOCK_STATE_HOME"] = state.Path };
        Task<ProcessResult> Run(params string[] args) => DrydockProcess.Run(_dir.Path, args, environment, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0, (await Run("init")).Exit);
        var first = await Run("keys", "create", "--name", "first");
        Assert.True(first.Exit == 0, first.ToString());
        Assert.Equal(0, (await Run("audit", "verify")).Exit);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var backup = new TempDir();
        CopyFolder(Path.Combine(_dir.Path, ".drydock"), Path.Combine(backup.Path, ".drydock"));

        // A key revoked, verified; then the whole state folder put back as it was before the revocation.
        var id = first.Stdout.Trim().Split('_')[1];
        Assert.Equal(0, (await Run("keys", "revoke", id)).Exit);
        Assert.Equal(0, (await Run("audit", "verify")).Exit);
        Directory.Delete(Path.Combine(_dir.Path, ".drydock"), recursive: true);
        CopyFolder(Path.Combine(backup.Path, ".drydock"), Path.Combine(_dir.Path, ".drydock"));

        var rolledBack = await Run("audit", "verify");
        Assert.True(rolledBack.Exit == 1, rolledBack.ToString());
        Assert.Contains("the audit log was rolled back", rolledBack.Stderr, StringComparison.Ordinal);

        // The older registry copied to another path and passed as --registry: the same registry to the witness.
        var elsewhere = Path.Combine(backup.Path, "elsewhere.db");
        File.Copy(Path.Combine(backup.Path, ".drydock", "registry.db"), elsewhere);
        var copied = await Run("audit", "verify", "--registry", elsewhere);
        Assert.True(copied.Exit == 1, copied.ToString());
        Assert.Contains("the audit log was rolled back", copied.Stderr, StringComparison.Ordinal);
    }
}
