using Drydock.Gateway.Monitoring;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Operations;

/// <summary>
/// <c>GET /admin/dashboard</c> (administrator keys only): the monitor's page over this gateway's signal log, for the
/// default window and baseline of <c>monitor:</c>, with the page's Content-Security-Policy also sent as a header.
/// </summary>
internal static class Dashboard
{
    public static async Task Serve(HttpContext context, GatewayHost host)
    {
        if (!await AdminApi.AdminOnly(context, host).ConfigureAwait(false)) return;
        if (host.Options.AuditFolder is not { } folder || host.Signals is null)
        {
            var why = host.Options.AuditFolder is null ? "this gateway keeps no request log, so no signals" : "monitor.signals is false: this gateway keeps no signal log";
            await GatewayHost.Error(context, 404, "no_signals", why).ConfigureAwait(false);
            return;
        }

        host.Signals.Flush();
        var settings = host.Options.Monitor;
        var (window, baseline) = DriftMonitor.DefaultPeriods(settings, DateTimeOffset.UtcNow);
        var report = DriftMonitor.Compare(folder, window, baseline, settings);
        var page = MonitorPage.Render(report, "Drydock gateway dashboard", Panels(host));
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.ContentSecurityPolicy = MonitorPage.ContentSecurityPolicy() + "; frame-ancestors 'none'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(page, context.RequestAborted).ConfigureAwait(false);
    }

    // Open incidents and deployments from the registry; a registry that cannot be read is said on the page (and logged), not left out.
    private static DashboardPanels Panels(GatewayHost host)
    {
        if (!host.Operations.HasRegistry) return DashboardPanels.Unavailable("this gateway has no registry attached: incidents and deployments are not shown");
        try
        {
            return DashboardPanels.From(host.Operations.Incidents(), host.Operations.Deployments(), DateTimeOffset.UtcNow);
        }
        catch (Exception e) when (e is Provenance.Registry.RegistryException or System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(host.Log, "dashboard: the registry could not be read: {Error}", e.GetType().Name);
            return DashboardPanels.Unavailable("the registry could not be read: incidents and deployments are not shown (see the gateway's log)");
        }
    }
}
