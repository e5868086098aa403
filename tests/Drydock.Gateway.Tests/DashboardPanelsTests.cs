using Drydock.Gateway.Monitoring;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Tests;

public sealed class DashboardPanelsTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void From_Timelines_NameIdsSubjectsSignalsAndKeys_NeverTheNotesText()
    {
        var abuse = Timeline("in-00000000000a", "abuse", "gateway:signals",
            ("opened", "drydock monitor: extraction: chi-square 812.4 against 0.001 (baseline 0, window 0.25); keys ddk_scraper (800 high, max 0.93), 1a2b3c4d (3 high, max 0.71); seen by jane.doe@example.com", "2026-12-07T10:00:00Z"),
            ("note", "acknowledged by the on-call, SECRET-REASON-7731", "2026-12-07T10:05:00Z"));
        var regression = Timeline("in-00000000000b", "regression", "model:support",
            ("opened", "drydock monitor evaluate ev-0123456789ab through the gateway, against gate decision gd-ba9876543210: jailbreak (more than 0.05)", "2026-12-07T09:00:00Z"),
            ("contained", "model:support disabled", "2026-12-07T09:00:01Z"),
            ("closed", "fixed", "2026-12-07T11:00:00Z"));
        var old = Timeline("in-00000000000c", "drift", "gateway:signals", ("opened", null, "2026-11-01T00:00:00Z"), ("closed", null, "2026-11-02T00:00:00Z"));

        var panels = DashboardPanels.From([old, regression, abuse], [], s_now);

        Assert.Equal(new[] { "in-00000000000a" }, panels.Incidents.Select(i => i.Id));
        Assert.Equal(new[] { "in-00000000000a", "in-00000000000b" }, panels.Timelines.Select(t => t.Incident.Id)); // newest first; the old closed one is gone
        var a = panels.Timelines[0].Steps;
        Assert.Equal(new[] { "raised", "note" }, a.Select(s => s.Step));
        Assert.Equal(new[] { "gateway:signals", "extraction", "key:ddk_scraper", "key:1a2b3c4d" }, a[0].Evidence);
        Assert.Empty(a[1].Evidence);
        var r = panels.Timelines[1].Steps;
        Assert.Equal(new[] { "raised", "contained", "resolved" }, r.Select(s => s.Step));
        Assert.Equal(new[] { "model:support", "ev-0123456789ab", "gd-ba9876543210" }, r[0].Evidence);
        Assert.Equal(new[] { "model:support" }, r[1].Evidence);
        Assert.Equal("2026-12-07T11:00:00Z", r[2].At);
    }

    private static IReadOnlyList<IncidentEvent> Timeline(string id, string kind, string subject, params (string Action, string? Note, string At)[] steps) =>
        [.. steps.Select((s, i) => new IncidentEvent($"ie-{i}", id, s.Action, kind, "high", subject, s.Note, "alice", s.At))];
}
