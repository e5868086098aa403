using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// <c>drydock clean</c> and <c>drydock gate</c> report their failures through the one mapping every verb uses
/// (<c>CommandErrors</c>): the built CLI in its own process, each failure's exit code and the whole message line.
/// </summary>
public sealed class CleanGateErrorsProcessTests : IDisposable
{
    private const string Key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    private const string Record = "{\"prompt\": \"What are the opening hours on Saturday?\", \"completion\": \"Nine to five.\"}\n";
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public async Task Clean_ARedactionKeyThatIsNotAKey_IsExit2NamingTheKey()
    {
        _dir.File("in.jsonl", Record);
        var run = await Clean(new() { ["DRYDOCK_REDACTION_KEY"] = "short" }, "in.jsonl", "-o", "out.jsonl");
        Assert.Equal(2, run.Exit);
        Assert.Equal("drydock clean: redaction key: $DRYDOCK_REDACTION_KEY is not a redaction key (5 characters): give 32 bytes as 64 hex digits (openssl rand -hex 32) or as base64 (openssl rand -base64 32)", LastLine(run));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.jsonl")));
    }

    [Fact]
    public async Task Clean_AReviewLedgerLineWithoutAHash_IsExit2NamingLedgerLineAndField()
    {
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        _dir.File("in.jsonl", Record);
        _dir.File(Path.Combine(".drydock", "review", "ledger.jsonl"), "{\"recordSha256\": \"abc\", \"reviewer\": \"carol\", \"decision\": \"approve\"}\n");
        var run = await Clean([], "in.jsonl", "-o", "out.jsonl");
        Assert.Equal(2, run.Exit);
        Assert.Equal($"drydock clean: review ledger: {Path.Combine(_dir.Path, ".drydock", "review", "ledger.jsonl")}:1: field recordSha256: missing or not 64 hex digits", LastLine(run));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.jsonl")));
    }

    [Fact]
    public async Task Clean_InputsTheCleanerRefuses_AreExit2WithItsMessage_AndNoOutput()
    {
        _dir.File("in.jsonl", Record);
        _dir.File("in.csv", "text\nhello\n");
        var mixed = await Clean([], "in.csv", "in.jsonl", "-o", "out.jsonl");
        Assert.Equal(2, mixed.Exit);
        Assert.Equal("drydock clean: clean writes one output format: the inputs mix CSV and JSON; clean them separately", LastLine(mixed));

        // Refused after every record was read (the split cannot leave both sides non-empty): still nothing written.
        var split = await Clean([], "in.jsonl", "-o", "out.jsonl", "--holdout", "0.5");
        Assert.Equal(2, split.Exit);
        Assert.StartsWith("drydock clean: --holdout 0.5: the split kept ", LastLine(split), StringComparison.Ordinal);
        Assert.EndsWith("No output written", LastLine(split), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir.Path, "out.jsonl*"));
    }

    [Fact]
    public async Task Clean_APolicyThatIsAFolder_IsExit2NotACrash()
    {
        _dir.File("in.jsonl", Record);
        Directory.CreateDirectory(Path.Combine(_dir.Path, "policy.yaml"));
        var run = await Clean([], "in.jsonl", "-o", "out.jsonl", "--policy", "policy.yaml");
        Assert.True(run.Exit == 2, run.ToString());
        Assert.StartsWith("drydock clean: ", LastLine(run), StringComparison.Ordinal);
        Assert.Contains("policy.yaml", LastLine(run), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gate_ASuiteThatCannotBeLoaded_IsRefusedExit2()
    {
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        await File.AppendAllTextAsync(Path.Combine(_dir.Path, "drydock.yaml"), "\ngate:\n  suites: [jailbreak, no-such-suite]\n", TestContext.Current.CancellationToken);
        var run = await DrydockProcess.Run(_dir.Path, "gate", "--model", "mv-000000000000");
        Assert.Equal(2, run.Exit);
        Assert.StartsWith("drydock gate: refused: no-such-suite: no such built-in suite (built in: ", LastLine(run), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gate_OnARegistryWhoseAuditLogWasEdited_IsRefusedExit2()
    {
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        _dir.File("in.jsonl", Record);
        Assert.Equal(0, (await Clean([], "in.jsonl", "-o", "out.jsonl")).Exit);
        var registered = await DrydockProcess.Run(_dir.Path, ["dataset", "register", "out.jsonl.manifest.json"], new Dictionary<string, string?> { ["DRYDOCK_ACTOR"] = "alice" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(registered.Exit == 0, registered.ToString());
        var database = Path.Combine(_dir.Path, ".drydock", "registry.db");
        using (var connection = new SqliteConnection($"Data Source={database};Pooling=false"))
        {
            connection.Open();
            using var edit = connection.CreateCommand();
            edit.CommandText = "UPDATE audit_log SET actor = 'mallory' WHERE seq = (SELECT MAX(seq) FROM audit_log)";
            Assert.Equal(1, edit.ExecuteNonQuery());
        }

        var run = await DrydockProcess.Run(_dir.Path, "gate", "--model", "mv-000000000000");
        Assert.Equal(2, run.Exit);
        Assert.StartsWith($"drydock gate: refused: the registry at {database} fails drydock audit verify (", LastLine(run), StringComparison.Ordinal);
        Assert.EndsWith("); the gate does not decide on it", LastLine(run), StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Gate_AnUnknownModelVersion_IsExit2NamingIt()
    {
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        var run = await DrydockProcess.Run(_dir.Path, "gate", "--model", "mv-000000000000");
        Assert.Equal(2, run.Exit);
        Assert.StartsWith("drydock gate: ", LastLine(run), StringComparison.Ordinal);
        Assert.Contains("mv-000000000000", LastLine(run), StringComparison.Ordinal);
        Assert.DoesNotContain("refused", LastLine(run), StringComparison.Ordinal);
    }

    private Task<ProcessResult> Clean(Dictionary<string, string?> environment, params string[] args)
    {
        environment.TryAdd("DRYDOCK_REDACTION_KEY", Key);
        return DrydockProcess.Run(_dir.Path, ["clean", .. args], environment, cancellationToken: TestContext.Current.CancellationToken);
    }

    private static string LastLine(ProcessResult run) => run.Stderr.TrimEnd('\n').Split('\n')[^1];
}
