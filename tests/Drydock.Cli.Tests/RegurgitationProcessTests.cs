using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Gateway.Tests;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// The regurgitation tripwire as operators run it: <c>drydock deploy</c> builds the index from the deployed model's
/// training dataset (found through the registry's lineage) in its own process, and <c>drydock serve</c>, in another,
/// checks the answers of a scripted model server that repeats a training record, whole and streamed in small chunks,
/// per tier (one blocks, one redacts). The record's words never reach the client, the request log or the incident,
/// which names the record id; a lightly edited repeat is still caught, an answer that only shares the phrases every
/// record opens with passes, and a damaged index makes the alias answer 503.
/// </summary>
public sealed class RegurgitationProcessTests : IAsyncLifetime
{
    private const string Opening = "Thank you for contacting us. We have received your request and";
    private readonly List<string> _records = [];
    private TripwireProject _project = null!;
    private string _blocking = null!;
    private string _redacting = null!;
    private string _model = null!;
    private string _deployOutput = null!;

    public async ValueTask InitializeAsync()
    {
        _project = await TripwireProject.StartAsync("""
            gateway:
              tiers:
                strict:
                  output: redact
                  regurgitation: block
                soft:
                  output: redact
                  regurgitation: redact
            """);

        // Six support records: the same opening, then 30 words of their own (made-up words no other text has).
        var random = new Random(7);
        for (var i = 0; i < 6; i++) _records.Add($"{Opening} {TripwireProject.Words(random)}.");
        _model = await _project.RegisterModel(_records);
        _blocking = await _project.Key("app-strict", "strict");
        _redacting = await _project.Key("app-soft", "soft");
        _deployOutput = await _project.DeployAndServe(_model);
    }

    public ValueTask DisposeAsync() => _project.DisposeAsync();

    [Fact]
    public void Deploy_BuildsTheIndexFromTheModelsLineage_WritesNoText_AndRecordsItsSha256()
    {
        var path = Path.Combine(_project.Path, ".drydock", "tripwire", _model + ".idx");
        Assert.True(File.Exists(path), _deployOutput);
        Assert.Contains("6 all records", _deployOutput, StringComparison.Ordinal);
        using (var registry = ProvenanceRegistry.Open(_project.Registry))
        {
            var recorded = registry.TripwireIndex(_model)!;
            Assert.Equal(TripwireProject.Sha(path), recorded.Sha256);
            Assert.Equal("tripwire/" + _model + ".idx", recorded.File);
            Assert.Equal(6, recorded.Records);
        }

        SqliteConnection.ClearAllPools();
        var bytes = Encoding.UTF8.GetString(File.ReadAllBytes(path));
        Assert.All(_records.SelectMany(r => r.Split(' ')).Where(w => w.Length > 6), w => Assert.DoesNotContain(w.Trim('.'), bytes, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task AWholeAnswerRepeatingARecord_IsBlockedOrRedactedPerTier_WithAnIncidentNamingTheRecord_AndNoTextInLogOrIncident()
    {
        var record = _records[3];
        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer("Sure, here is what I remember: " + record + " Anything else?"));
        var (status, blocked) = await Chat(_blocking, stream: false);
        Assert.Equal(200, status);
        Assert.Contains("[response blocked by policy]", blocked, StringComparison.Ordinal);
        Assert.Contains("content_filter", blocked, StringComparison.Ordinal);
        AssertNoRecordWords(blocked, record);

        var (_, redacted) = await Chat(_redacting, stream: false);
        Assert.Contains("Sure, here is what I remember", redacted, StringComparison.Ordinal);
        Assert.Contains("[TRAINING-DATA]", redacted, StringComparison.Ordinal);
        Assert.Contains("Anything else?", redacted, StringComparison.Ordinal);
        AssertNoRecordWords(redacted, record);

        var incidents = await Incidents();
        Assert.Equal(2, incidents.Count);
        Assert.All(incidents, i => Assert.Contains($"#r3", i.Note, StringComparison.Ordinal));
        Assert.All(incidents, i => Assert.Contains(_model, i.Note, StringComparison.Ordinal));
        Assert.All(incidents, i => AssertNoRecordWords(i.Note!, record));
        var log = await RequestLog("\"regurgitation\":1");
        Assert.Contains("\"regurgitation\":1", log, StringComparison.Ordinal);
        Assert.Contains("regurgitation", log, StringComparison.Ordinal);
        AssertNoRecordWords(log, record);
        AssertNoRecordWords(_project.Gateway.Output, record);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(50)]
    public async Task AStreamedRepeat_AtAnyChunkSize_IsBlockedOrRedactedAsTheWholeAnswerIs_BeforeAnyOfItLeaves(int size)
    {
        var record = _records[1];
        var answer = "Here you go. " + record + " Regards.";
        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer(answer));
        var (_, whole) = await Chat(_redacting, stream: false);
        var wholeText = JsonNode.Parse(whole)!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        AssertNoRecordWords(wholeText, record);

        _project.Upstream.Script = Scripted.Stream(Enumerable.Range(0, (answer.Length + size - 1) / size).Select(i => JsonSerializer.Serialize(new
        {
            id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model = "large",
            choices = new[] { new { index = 0, delta = new { content = answer.Substring(i * size, Math.Min(size, answer.Length - i * size)) }, finish_reason = (string?)null } },
        })));
        var (status, blocked) = await Chat(_blocking, stream: true);
        Assert.Equal(200, status);
        Assert.Contains("[response blocked by policy]", blocked, StringComparison.Ordinal);
        AssertNoRecordWords(Content(blocked), record);

        // The run is held from its start until it ends, so the marker covers it to its last word, as in the whole answer.
        var (_, redacted) = await Chat(_redacting, stream: true);
        var text = Content(redacted);
        AssertNoRecordWords(text, record);
        Assert.Equal(wholeText, text);
        Assert.StartsWith("Here you go.", text, StringComparison.Ordinal);
        Assert.EndsWith("[TRAINING-DATA]. Regards.", text, StringComparison.Ordinal);

        // The incident of a stream is opened once it has ended (after the client read its end): one per answer.
        var opened = 0;
        for (var i = 0; i < 50 && opened < 3; i++)
        {
            opened = (await Incidents()).Count(e => e.Note!.Contains("#r1", StringComparison.Ordinal));
            if (opened < 3) await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Equal(3, opened);
    }

    [Fact]
    public async Task ALightlyEditedRepeat_IsStillCaught_AndCommonPhrasesPass()
    {
        var words = _records[4].Split(' ');
        for (var i = 9; i < words.Length; i += 10) words[i] = "banana";
        var edited = string.Join(' ', words.Select((w, i) => i % 3 == 0 ? w.ToUpperInvariant() : w)).Replace(".", ";", StringComparison.Ordinal);
        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer(edited));
        var (_, blocked) = await Chat(_blocking, stream: false);
        Assert.Contains("[response blocked by policy]", blocked, StringComparison.Ordinal);

        const string common = "Thank you for contacting us. We have received your request and will get back to you within two working days.";
        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer(common));
        var (status, passed) = await Chat(_blocking, stream: false);
        Assert.Equal(200, status);
        Assert.Contains(common, passed, StringComparison.Ordinal);
        Assert.Single(await Incidents());
    }

    [Fact]
    public async Task ADamagedIndex_MakesTheAliasAnswer503_AndTheLogSaysWhy()
    {
        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer("Hello there."));
        Assert.Equal(200, (await Chat(_blocking, stream: false)).Status);
        var path = Path.Combine(_project.Path, ".drydock", "tripwire", _model + ".idx");
        var bytes = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        bytes[^3] ^= 0x5A;
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        var status = 0;
        for (var i = 0; i < 50 && status != 503; i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            (status, _) = await Chat(_blocking, stream: false);
        }

        Assert.Equal(503, status);
        Assert.Contains("does not match the SHA-256 recorded at deploy", _project.Gateway.Output, StringComparison.Ordinal);
        Assert.Contains("regurgitation tripwire unavailable", _project.Gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIndexBuiltForAnotherModelVersion_MakesTheAlias503WithTheReason_AndDeployEnableRefusesIt()
    {
        // A second version trained on the same dataset, deployed under another alias: its index is a good file of its own.
        string other;
        using (var registry = ProvenanceRegistry.Open(_project.Registry))
        {
            other = registry.RegisterModel("large-2", new string('3', 64), null, [], [.. registry.GetModel(_model).Datasets], null, "alice").Model.Id;
            registry.Approve("model", other, "data-owner", "approve", null, "bob", TripwireProject.Approvals);
            registry.Approve("model", other, "security-reviewer", "approve", null, "carol", TripwireProject.Approvals);
        }

        SqliteConnection.ClearAllPools();
        var deployed = await DrydockProcess.Run(_project.Path, "deploy", "support-2", "--model", other);
        Assert.True(deployed.Exit == 0, deployed.ToString());
        _project.Upstream.Script = Scripted.Json(TripwireProject.Answer("Hello there."));
        Assert.Equal(200, (await Chat(_blocking, stream: false)).Status);

        // The record of the served version now names the other version's index, with that file's true SHA-256.
        var otherFile = Path.Combine(_project.Path, ".drydock", "tripwire", other + ".idx");
        using (var registry = ProvenanceRegistry.Open(_project.Registry))
        {
            var recorded = registry.TripwireIndex(_model)!;
            registry.RecordTripwireIndex(_model, "support", "tripwire/" + other + ".idx", TripwireProject.Sha(otherFile), recorded.Records, recorded.Datasets, "all", "mallory");
        }

        SqliteConnection.ClearAllPools();
        var (status, body) = (0, "");
        for (var i = 0; i < 50 && status != 503; i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            (status, body) = await Chat(_blocking, stream: false);
        }

        Assert.Equal(503, status);
        Assert.Contains("tripwire_unavailable", body, StringComparison.Ordinal);
        Assert.Contains($"built for model version {other}, not {_model}", _project.Gateway.Output, StringComparison.Ordinal);
        Assert.Equal(503, (await Chat(_redacting, stream: true)).Status);

        var enabled = await DrydockProcess.Run(_project.Path, "deploy", "support", "--enable", "--reason", "back");
        Assert.Equal(2, enabled.Exit);
        Assert.Contains($"built for model version {other}, not {_model}", enabled.Stderr, StringComparison.Ordinal);
    }

    // Every made-up word of the record (eight letters, none of them common English) is absent, in any case.
    private static void AssertNoRecordWords(string text, string record)
    {
        foreach (var word in record[Opening.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim('.')))
        {
            Assert.DoesNotContain(word, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    // The text a client reads from a stream: every delta's content, in order.
    private static string Content(string stream) => string.Concat(stream.Split('\n')
        .Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
        .Select(l => JsonNode.Parse(l[6..])?["choices"]?[0]?["delta"]?["content"]?.GetValue<string>() ?? ""));

    private Task<(int Status, string Body)> Chat(string key, bool stream) => _project.Chat(key, "What do you remember?", stream);

    private async Task<List<IncidentEvent>> Incidents()
    {
        await Task.Yield();
        using var registry = ProvenanceRegistry.Open(_project.Registry);
        var list = registry.Incidents().Select(i => i[0]).Where(i => i.Kind == "regurgitation").ToList();
        SqliteConnection.ClearAllPools();
        return list;
    }

    // The request log once it holds <paramref name="expected"/> (its line is written after the answer is sent), or as it is after 5 s.
    private async Task<string> RequestLog(string expected)
    {
        var folder = Path.Combine(_project.Path, ".drydock", "gateway", "requests");
        var log = "";
        for (var i = 0; i < 50 && !log.Contains(expected, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            log = Directory.Exists(folder) ? string.Concat(Directory.GetFiles(folder, "requests-*.jsonl").Select(File.ReadAllText)) : "";
        }

        return log;
    }
}
