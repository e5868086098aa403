using System.Text;
using BenchmarkDotNet.Attributes;
using Drydock.Datasets;
using Drydock.Datasets.Formats;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway;
using Drydock.Gateway.Guards;

namespace Drydock.Bench;

/// <summary>
/// Micro-benchmarks of the per-field hot paths: detection on typical texts, JSON record parsing, and the near-duplicate
/// signature of a record's content; the gateway's whole-answer guard on an answer with a provider's own field beside its
/// content (the joins of outside texts), and an HTML answer (the markup reading). The clean field rotates through 4,096 variants: the detector skips a short text it
/// has just found clean, so one repeated text would time that lookup instead of a scan.
/// </summary>
[MemoryDiagnoser]
public class HotPaths
{
    private readonly Detector _detector = Detector.Create(BuiltInRules.All);
    private readonly JsonRecordParser _parser = new(DatasetFormat.Chat, 128);
    private byte[] _record = [];
    private string[] _cleanVariants = [];
    private int _next;
    private readonly string[] _content =
    [
        "You are a helpful support assistant for an online bank. Answer briefly and never ask for full card numbers.",
        "Could you explain the difference between a Roth IRA and a traditional IRA? I am trying to decide before the end of the tax year.",
        "Both are retirement accounts. Contributions to a traditional IRA may be deductible now and are taxed when withdrawn; Roth contributions are taxed now and qualified withdrawals are tax-free.",
    ];

    private const string Clean = "Could you explain the difference between a Roth IRA and a traditional IRA? The quarterly report is attached; " +
                                 "revenue grew 4% year over year. Step 1: open Settings. Step 2: choose Security. Thanks, that solved it!";

    private const string WithFindings = "Hi, my name is Maria Gonzalez. My card 4539 1488 0343 6467 was declined; reach me at maria.gonzalez@fastmail.com " +
                                        "or +44 20 7946 0321. Our config has AKIAGNSUV3QBWQSDXU6S in it, sorry.";

    private readonly TextGuard _guard = new(Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers));
    private readonly Tier _tier = new("bench", [], 4096, true, GuardMode.Block, GuardMode.Redact, 1000, 100000);
    private string _answerWithOutsideField = "";
    private string _html = "";

    [GlobalSetup]
    public void Setup()
    {
        var (json, _) = new Synthetic(3).ChatRecord(1, findingRate: 0);
        _record = Encoding.UTF8.GetBytes(json);
        var content = string.Concat(Enumerable.Repeat(Clean + " ", 4));
        _answerWithOutsideField = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = "c1", ["object"] = "chat.completion", ["created"] = 1733000000, ["model"] = "tiny",
            ["choices"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
            {
                ["index"] = 0, ["finish_reason"] = "stop",
                ["message"] = new System.Text.Json.Nodes.JsonObject { ["role"] = "assistant", ["content"] = content, ["reasoning_content"] = "The user asks about IRAs; answer briefly." },
            }),
            ["x_provider_note"] = "served from the eu-west pool",
        }.ToJsonString();
        _html = "<ul>" + string.Concat(Enumerable.Range(0, 12).Select(i => $"<li>Step {i}: open <b>Settings</b>, then<br>choose <i>Security</i>.</li>")) + "</ul>";
        _cleanVariants = [.. Enumerable.Range(0, 4096).Select(i => Clean + " Ticket " + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    }

    [Benchmark]
    public int ScanCleanField() => _detector.Scan(_cleanVariants[_next++ & 4095]).Count;

    [Benchmark]
    public int ScanFieldWithFindings() => _detector.Scan(WithFindings).Count;

    [Benchmark]
    public int ParseChatRecord() => _parser.Parse("bench.jsonl", 1, _record).Record!.Fields.Count;

    [Benchmark]
    public uint NearDuplicateSignature() => Datasets.Similarity.NearDuplicateIndex.Signature(_content)[0];

    [Benchmark]
    public int GuardWholeAnswerWithOutsideField()
    {
        var answer = new GuardedAnswer(_tier, new Drydock.Detection.Analyzers.CanaryAnalyzer([]));
        WholeAnswerGuard.Guard(_guard, System.Text.Json.Nodes.JsonNode.Parse(_answerWithOutsideField)!, chat: true, answer);
        return answer.TextsChecked;
    }

    [Benchmark]
    public int GuardHtmlAnswerText() => _guard.Output(_html, GuardMode.Redact).Findings.Count;

    [Benchmark]
    public int GuardHtmlPrompt() => _guard.Input(_html, GuardMode.Block).Findings.Count;
}
