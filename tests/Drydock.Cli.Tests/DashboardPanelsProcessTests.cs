using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Drydock.Gateway.Tests;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace Drydock.Cli.Tests;

/// <summary>
/// The gateway's <c>/admin/dashboard</c> with the registry's panels, as operators see it: a real <c>drydock serve</c>
/// in front of a scripted model server, deployments and incidents made with the built CLI, the page fetched with an
/// administrator key and rendered in a real headless chromium. Open incidents (kind, opened, subject, state) and
/// deployments (alias → version, enabled, since) show, and the timelines of open and recently resolved incidents
/// (each step, when, and the ids and subjects it names); closed incidents in the open table and the reasons' text do not.
/// </summary>
public sealed class DashboardPanelsProcessTests : IDisposable
{
    private static readonly ApprovalPolicy s_policy = new(["data-owner", "security-reviewer"], "confidential");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Dashboard_ShowsOpenIncidentsAndDeployments_WithoutReasonsText_InARealBrowser()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        string tiny, large;
        using (var registry = ProvenanceRegistry.Open(Path.Combine(_dir.Path, ".drydock", "registry.db")))
        {
            tiny = ApprovedModel(registry, '1', "tiny");
            large = ApprovedModel(registry, '2', "large");
        }

        SqliteConnection.ClearAllPools();
        await Cli(0, "deploy", "support", "--model", tiny);
        await Cli(0, "deploy", "billing", "--model", large);
        var contained = (await Cli(0, "incident", "contain", "--model", "billing", "--reason", "SECRET-REASON-7731 leak for jane.doe@example.com")).Stdout;
        var open = Regex.Match(contained, @"in-[0-9a-f]+").Value;
        // A second incident, contained, the alias enabled again and the incident closed: not an open one.
        var closing = Regex.Match((await Cli(0, "incident", "contain", "--model", "support", "--reason", "other")).Stdout, @"in-[0-9a-f]+").Value;
        await Cli(0, "deploy", "support", "--enable", "--reason", "fixed");
        await Cli(0, "incident", "close", closing, "--note", "NOTE-TEXT-4411 resolved");
        var app = (await Cli(0, "keys", "create", "--name", "app", "--tier", "internal")).Stdout.Trim();
        var admin = (await Cli(0, "keys", "create", "--name", "ops", "--admin")).Stdout.Trim();
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));
        using var http = new HttpClient();
        for (var i = 0; i < 5; i++) await SignalFixture.Chat(http, url, app, $"Where is order {i}?", model: "support", cancellationToken: TestContext.Current.CancellationToken);

        using var get = new HttpRequestMessage(HttpMethod.Get, url + "/admin/dashboard");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        using var page = await http.SendAsync(get, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        var source = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("<script", source, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"(src|href)\s*=", source);
        Assert.DoesNotContain("url(", source, StringComparison.Ordinal);
        var served = Path.Combine(_dir.Path, "dashboard.html");
        await File.WriteAllTextAsync(served, source, TestContext.Current.CancellationToken);
        await Panels(served, open, closing, tiny, large, [app, admin]);

        // drydock monitor --html writes the same panels into its file (the same renderer).
        var written = Path.Combine(_dir.Path, "report.html");
        await Cli(0, "monitor", "--html", written);
        await Panels(written, open, closing, tiny, large, [app, admin]);
    }

    private async Task Panels(string served, string open, string closing, string tiny, string large, string[] keys)
    {
        var source = await File.ReadAllTextAsync(served, TestContext.Current.CancellationToken);
        Assert.DoesNotContain("<script", source, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"(src|href)\s*=", source);
        Assert.DoesNotContain("url(", source, StringComparison.Ordinal);
        var chromium = HeadlessChromium.Find();
        var log = Path.Combine(_dir.Path, Path.GetFileNameWithoutExtension(served) + "-chromium.log");
        var dom = await HeadlessChromium.Run(chromium, [.. HeadlessChromium.Options(Path.Combine(_dir.Path, "profile")), "--enable-logging", "--log-level=0", $"--log-file={log}", "--dump-dom", new Uri(served).AbsoluteUri]);
        var browserLog = File.Exists(log) ? await File.ReadAllTextAsync(log, TestContext.Current.CancellationToken) : "";
        Assert.DoesNotContain("CONSOLE", browserLog, StringComparison.Ordinal);
        Assert.DoesNotContain("Content Security Policy", browserLog, StringComparison.Ordinal);

        // Open incidents: the contained one, with its kind, subject and state; not the closed one.
        var incidents = Regex.Match(dom, "<table id=\"incidents\">.*?</table>", RegexOptions.Singleline).Value;
        Assert.Contains($"<td>{open}</td>", incidents, StringComparison.Ordinal);
        Assert.Matches($@"<tr><td>{open}</td><td>[a-z-]+</td><td>[a-z]+</td><td>model:billing</td><td>\d{{4}}-\d\d-\d\dT[^<]+</td><td>(opened|contained)</td>", incidents);
        Assert.DoesNotContain(closing, incidents, StringComparison.Ordinal);

        // Timelines: each step of the open incident and of the one resolved today, in order, with the evidence each
        // step names (the subject, the alias contained) and never the reason's or the note's text.
        var openSteps = Regex.Match(dom, $"<table class=\"timeline\" id=\"timeline-{open}\">.*?</table>", RegexOptions.Singleline).Value;
        Assert.Matches(@"<tr class=""step-raised""><td>raised</td><td>\d{4}-\d\d-\d\dT[^<]+</td><td>model:billing</td></tr><tr class=""step-contained""><td>contained</td><td>\d{4}-\d\d-\d\dT[^<]+</td><td>model:billing</td></tr>(</tbody>)?</table>", openSteps);
        var closedSteps = Regex.Match(dom, $"<table class=\"timeline\" id=\"timeline-{closing}\">.*?</table>", RegexOptions.Singleline).Value;
        Assert.Matches(@"<td>raised</td><td>[^<]+</td><td>model:support</td></tr><tr class=""step-contained""><td>contained</td><td>[^<]+</td><td>model:support</td></tr><tr class=""step-resolved""><td>resolved</td><td>\d{4}-\d\d-\d\dT[^<]+</td><td>-</td></tr>(</tbody>)?</table>", closedSteps);

        // Deployments: alias → version, enabled, since.
        var deployments = Regex.Match(dom, "<table id=\"deployments\">.*?</table>", RegexOptions.Singleline).Value;
        Assert.Matches($@"<td>billing</td><td>{large}</td><td>DISABLED</td><td>\d{{4}}-\d\d-\d\dT[^<]+</td><td>disable</td>", deployments);
        Assert.Matches($@"<td>support</td><td>{tiny}</td><td>yes</td>", deployments);

        // No reason or note text, no key, anywhere on the page.
        string[] secrets = ["SECRET-REASON-7731", "jane.doe@example.com", "NOTE-TEXT-4411", .. keys];
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, source, StringComparison.Ordinal);
        }

        Assert.Contains("<svg class=\"chart traffic\"", dom, StringComparison.Ordinal);
    }

    private static string ApprovedModel(ProvenanceRegistry registry, char digit, string name)
    {
        var id = registry.RegisterModel(name, new string(digit, 64), null, [], [], null, "alice").Model.Id;
        registry.Approve("model", id, "data-owner", "approve", null, "bob", s_policy);
        registry.Approve("model", id, "security-reviewer", "approve", null, "carol", s_policy);
        return id;
    }

    private async Task<ProcessResult> Cli(int exit, params string[] args)
    {
        var result = await DrydockProcess.Run(_dir.Path, args);
        Assert.True(result.Exit == exit, $"drydock {string.Join(' ', args)}: {result}");
        return result;
    }
}
