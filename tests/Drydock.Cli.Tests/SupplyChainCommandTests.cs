using System.Text;
using System.Text.Json;

namespace Drydock.Cli.Tests;

public sealed class SupplyChainCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drydock-supply-" + Guid.NewGuid().ToString("N"));

    public SupplyChainCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ModelScan_ExitsOneOnAMaliciousPickle_AndReportsHashes()
    {
        // protocol 2: GLOBAL os system, ('id',), REDUCE, STOP
        var evil = Path.Combine(_dir, "model.bin");
        await File.WriteAllBytesAsync(evil, [0x80, 2, .. "cos\nsystem\n"u8.ToArray(), 0x8c, 2, .. "id"u8.ToArray(), 0x85, (byte)'R', (byte)'.'], TestContext.Current.CancellationToken);
        var safe = Path.Combine(_dir, "ok.safetensors");
        var header = Encoding.UTF8.GetBytes("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""");
        await File.WriteAllBytesAsync(safe, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 0, 0, 0, 0], TestContext.Current.CancellationToken);

        var result = await CliRunner.Run("model", "scan", _dir, "--format", "json");
        Assert.Equal(1, result.Exit);
        using var doc = JsonDocument.Parse(result.Stdout);
        var finding = Assert.Single(doc.RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal("malware", finding.GetProperty("category").GetString());
        Assert.Equal("critical", finding.GetProperty("severity").GetString());
        Assert.Contains("os.system", finding.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, doc.RootElement.GetProperty("files").GetArrayLength());
        Assert.All(doc.RootElement.GetProperty("files").EnumerateArray(), f => Assert.Equal(64, f.GetProperty("sha256").GetString()!.Length));

        Assert.Equal(0, (await CliRunner.Run("model", "scan", safe)).Exit);
        var sarif = await CliRunner.Run("model", "scan", evil, "--format", "sarif");
        Assert.Equal("error", JsonDocument.Parse(sarif.Stdout).RootElement.GetProperty("runs")[0].GetProperty("results")[0].GetProperty("level").GetString());
        Assert.Equal(2, (await CliRunner.Run("model", "scan", Path.Combine(_dir, "missing.pt"))).Exit);
    }

    [Fact]
    public async Task SupplyChainCheck_ReportsUnpinned()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "requirements.txt"), "torch>=2\n", TestContext.Current.CancellationToken);
        var result = await CliRunner.Run("supply-chain", "check", _dir);
        Assert.Equal(1, result.Exit);
        Assert.Contains("requirements.txt:1", result.Stdout, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(_dir, "requirements.txt"), "torch==2.4.1\n", TestContext.Current.CancellationToken);
        Assert.Equal(0, (await CliRunner.Run("supply-chain", "check", _dir)).Exit);
    }
}
