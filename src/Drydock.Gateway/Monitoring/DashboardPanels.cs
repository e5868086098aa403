using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Drydock.Provenance.Registry;

namespace Drydock.Gateway.Monitoring;

/// <summary>An open incident as the dashboard shows it: no note, no actor, only what identifies it and where it stands.</summary>
/// <param name="Id">The incident id.</param>
/// <param name="Kind">drift, abuse, regression, key-compromise, …</param>
/// <param name="Severity">Its severity.</param>
/// <param name="Subject">What it is about (<c>model:ALIAS</c>, <c>gateway:signals</c>, <c>key:ID</c>).</param>
/// <param name="Opened">When it was opened.</param>
/// <param name="State">Its last step: opened, contained or note.</param>
/// <param name="Changed">When that step was taken.</param>
public sealed record DashboardIncident(string Id, string Kind, string Severity, string Subject, string Opened, string State, string Changed);

/// <summary>A deployment as the dashboard shows it: which model version an alias serves, whether it is enabled, and since when; no reason text.</summary>
/// <param name="Alias">The alias.</param>
/// <param name="ModelId">The model version it points at, if any.</param>
/// <param name="Enabled">False when the kill switch holds it.</param>
/// <param name="Since">When its last change (deploy, disable, enable, revert) was made.</param>
/// <param name="Change">That change.</param>
public sealed record DashboardDeployment(string Alias, string? ModelId, bool Enabled, string Since, string Change);

/// <summary>One step of an incident's timeline as the dashboard shows it: no note text and no actor, only the ids and subjects the step's note names.</summary>
/// <param name="Step">raised (opened), contained, note or resolved (closed).</param>
/// <param name="At">When the step was taken.</param>
/// <param name="Evidence">The registry ids (<c>in-</c>, <c>ev-</c>, <c>gd-</c>, <c>mv-</c>, …), subjects (<c>model:ALIAS</c>, <c>key:ID</c>) and monitor signals the step's note names.</param>
internal sealed record DashboardStep(string Step, string At, IReadOnlyList<string> Evidence);

/// <summary>An incident's timeline as the dashboard shows it.</summary>
/// <param name="Incident">The incident.</param>
/// <param name="Steps">Its steps, oldest first.</param>
internal sealed record DashboardTimeline(DashboardIncident Incident, IReadOnlyList<DashboardStep> Steps);

/// <summary>The dashboard's registry panels: open incidents and deployments, or why they could not be read.</summary>
/// <param name="Incidents">The open incidents, newest first.</param>
/// <param name="Deployments">Every alias's deployment, by alias.</param>
/// <param name="Problem">Why the registry could not be read (the panels then say so), or null.</param>
public sealed partial record DashboardPanels(IReadOnlyList<DashboardIncident> Incidents, IReadOnlyList<DashboardDeployment> Deployments, string? Problem)
{
    /// <summary>How long a closed incident's timeline stays on the page.</summary>
    internal static readonly TimeSpan ResolvedShownFor = TimeSpan.FromDays(7);

    /// <summary>The timelines of the open incidents and of those resolved within <see cref="ResolvedShownFor"/>, newest first.</summary>
    internal IReadOnlyList<DashboardTimeline> Timelines { get; init; } = [];

    /// <summary>The panels from the registry's timelines: incidents whose last step is not <c>closed</c>, each alias's last change, and the timelines of open and recently resolved incidents.</summary>
    public static DashboardPanels From(IEnumerable<IReadOnlyList<IncidentEvent>> incidents, IEnumerable<DeploymentState> deployments, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(incidents);
        ArgumentNullException.ThrowIfNull(deployments);
        var all = incidents.Where(t => t.Count > 0).ToList();
        var open = all.Where(t => t[^1].Action != "closed")
            .Select(Summary).OrderByDescending(i => i.Opened, StringComparer.Ordinal).ToList();
        var aliases = deployments.Where(d => d.History.Count > 0)
            .Select(d => new DashboardDeployment(d.Alias, d.ModelId, d.Enabled, d.History[^1].At, d.History[^1].Action))
            .OrderBy(d => d.Alias, StringComparer.Ordinal).ToList();
        var timelines = all.Where(t => t[^1].Action != "closed" || Recent(t[^1].At, now))
            .Select(t => new DashboardTimeline(Summary(t), [.. t.Select(e => new DashboardStep(StepName(e.Action), e.At, Evidence(e)))]))
            .OrderByDescending(t => t.Incident.Opened, StringComparer.Ordinal).ToList();
        return new DashboardPanels(open, aliases, null) { Timelines = timelines };
    }

    /// <summary>Panels that say the registry could not be read, and why.</summary>
    public static DashboardPanels Unavailable(string problem) => new([], [], problem);

    private static DashboardIncident Summary(IReadOnlyList<IncidentEvent> t) =>
        new(t[0].IncidentId, t[0].Kind, t[0].Severity, t[0].Subject, t[0].At, t[^1].Action, t[^1].At);

    // A closed time that cannot be read is shown rather than hidden.
    private static bool Recent(string at, DateTimeOffset now) =>
        !DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) || now - t <= ResolvedShownFor;

    private static string StepName(string action) => action switch { "opened" => "raised", "closed" => "resolved", _ => action };

    // What a step names, never its free text (a reason or note may hold anything a person typed).
    private static List<string> Evidence(IncidentEvent e)
    {
        var named = new List<string>();
        if (e.Action == "opened") named.Add(e.Subject);
        if (e.Note is { } note)
        {
            foreach (Match m in EvidenceShape().Matches(note)) named.Add(m.Groups["key"].Success ? "key:" + m.Value : m.Value);
        }

        return [.. named.Distinct(StringComparer.Ordinal)];
    }

    [GeneratedRegex(@"\b(?:(?:model|key|gateway|dataset):[A-Za-z0-9][A-Za-z0-9._-]{0,63}|(?:in|ev|gd|dp|mv|ds|cn|tw|ap|rv|ac)-[0-9a-f]{12}|(?:traffic|upstream-errors|input-blocked|input-flagged|output-blocked|output-redacted|refusal-rate|extraction|input-findings|output-findings|prompt-length|latency|templates|canary-hits)(?=:))|(?<key>(?<=\bkey )[0-9a-f]{8}\b|(?<=\bkeys |\), )[A-Za-z0-9_-]{1,64}(?= \(\d+ high))")]
    private static partial Regex EvidenceShape();

    internal void Render(StringBuilder h)
    {
        h.Append(CultureInfo.InvariantCulture, $"<h2>Open incidents ({Incidents.Count})</h2>");
        if (Problem is not null) h.Append(CultureInfo.InvariantCulture, $"<p class=\"note\" id=\"registry-problem\">{E(Problem)}</p>");
        else if (Incidents.Count == 0) h.Append("<p id=\"no-incidents\">No open incident.</p>");
        else
        {
            h.Append("<table id=\"incidents\"><tr><th>incident</th><th>kind</th><th>severity</th><th>subject</th><th>opened</th><th>state</th><th>since</th></tr>");
            foreach (var i in Incidents)
            {
                h.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(i.Id)}</td><td>{E(i.Kind)}</td><td>{E(i.Severity)}</td><td>{E(i.Subject)}</td><td>{E(i.Opened)}</td><td>{E(i.State)}</td><td>{E(i.Changed)}</td></tr>");
            }

            h.Append("</table>");
        }

        RenderTimelines(h);
        h.Append("<h2>Deployments (alias → model version)</h2>");
        if (Problem is not null) h.Append("<p class=\"note\">See above: the registry could not be read.</p>");
        else if (Deployments.Count == 0) h.Append("<p id=\"no-deployments\">No alias deployed through the registry.</p>");
        else
        {
            h.Append("<table id=\"deployments\"><tr><th>alias</th><th>model version</th><th>enabled</th><th>since</th><th>change</th></tr>");
            foreach (var d in Deployments)
            {
                h.Append(CultureInfo.InvariantCulture, $"<tr class=\"{(d.Enabled ? "ok" : "drift")}\"><td>{E(d.Alias)}</td><td>{E(d.ModelId ?? "-")}</td><td>{(d.Enabled ? "yes" : "DISABLED")}</td><td>{E(d.Since)}</td><td>{E(d.Change)}</td></tr>");
            }

            h.Append("</table>");
        }
    }

    // Each incident's steps: raised, contained, notes, resolved, with when and the evidence each names.
    private void RenderTimelines(StringBuilder h)
    {
        if (Problem is not null) return;
        h.Append(CultureInfo.InvariantCulture, $"<h2>Incident timelines (open, and resolved in the last {ResolvedShownFor.TotalDays:0} days)</h2>");
        if (Timelines.Count == 0)
        {
            h.Append("<p id=\"no-timelines\">No incident open or resolved lately.</p>");
            return;
        }

        foreach (var t in Timelines)
        {
            var i = t.Incident;
            h.Append(CultureInfo.InvariantCulture, $"<h3>{E(i.Id)}: {E(i.Kind)}, {E(i.Severity)}, {E(i.Subject)}</h3>");
            h.Append(CultureInfo.InvariantCulture, $"<table class=\"timeline\" id=\"timeline-{E(i.Id)}\"><tr><th>step</th><th>at</th><th>evidence</th></tr>");
            foreach (var s in t.Steps)
            {
                var evidence = s.Evidence.Count == 0 ? "-" : string.Join(", ", s.Evidence.Select(E));
                h.Append(CultureInfo.InvariantCulture, $"<tr class=\"step-{E(s.Step)}\"><td>{E(s.Step)}</td><td>{E(s.At)}</td><td>{evidence}</td></tr>");
            }

            h.Append("</table>");
        }
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
