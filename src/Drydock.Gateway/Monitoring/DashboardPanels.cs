using System.Globalization;
using System.Net;
using System.Text;
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

/// <summary>The dashboard's registry panels: open incidents and deployments, or why they could not be read.</summary>
/// <param name="Incidents">The open incidents, newest first.</param>
/// <param name="Deployments">Every alias's deployment, by alias.</param>
/// <param name="Problem">Why the registry could not be read (the panels then say so), or null.</param>
public sealed record DashboardPanels(IReadOnlyList<DashboardIncident> Incidents, IReadOnlyList<DashboardDeployment> Deployments, string? Problem)
{
    /// <summary>The panels from the registry's timelines: incidents whose last step is not <c>closed</c>, and each alias's last change.</summary>
    public static DashboardPanels From(IEnumerable<IReadOnlyList<IncidentEvent>> incidents, IEnumerable<DeploymentState> deployments)
    {
        ArgumentNullException.ThrowIfNull(incidents);
        ArgumentNullException.ThrowIfNull(deployments);
        var open = incidents.Where(t => t.Count > 0 && t[^1].Action != "closed")
            .Select(t => new DashboardIncident(t[0].IncidentId, t[0].Kind, t[0].Severity, t[0].Subject, t[0].At, t[^1].Action, t[^1].At))
            .OrderByDescending(i => i.Opened, StringComparer.Ordinal).ToList();
        var aliases = deployments.Where(d => d.History.Count > 0)
            .Select(d => new DashboardDeployment(d.Alias, d.ModelId, d.Enabled, d.History[^1].At, d.History[^1].Action))
            .OrderBy(d => d.Alias, StringComparer.Ordinal).ToList();
        return new DashboardPanels(open, aliases, null);
    }

    /// <summary>Panels that say the registry could not be read, and why.</summary>
    public static DashboardPanels Unavailable(string problem) => new([], [], problem);

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

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
