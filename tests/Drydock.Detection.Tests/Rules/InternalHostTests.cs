using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Rules;

/// <summary>Hosts that name an internal service by convention, and the public look-alikes that must stay silent.</summary>
public class InternalHostTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All);

    [Theory]
    [InlineData("Rollback: https://deploy.payments-internal.io/runbooks/rollback now", "https://deploy.payments-internal.io/runbooks/rollback")]
    [InlineData("Grafana lives at https://grafana.corp-internal.com/d/api", "https://grafana.corp-internal.com/d/api")]
    [InlineData("open https://api.internal.acme.com/admin", "https://api.internal.acme.com/admin")]
    [InlineData("wiki at https://wiki.corp.contoso.com/display/OPS", "https://wiki.corp.contoso.com/display/OPS")]
    [InlineData("HR: https://people.intranet.stark.io/benefits", "https://people.intranet.stark.io/benefits")]
    [InlineData("see https://api.internal-tools.acme.com/admin/users", "https://api.internal-tools.acme.com/admin/users")]
    [InlineData("scrape http://orders.checkout.svc:9090/metrics", "http://orders.checkout.svc:9090/metrics")]
    [InlineData("see deploy.payments-internal.io/runbooks/rollback for the steps", "deploy.payments-internal.io/runbooks/rollback")]
    [InlineData("ssh into build-07.ci-internal.net and clear the cache", "build-07.ci-internal.net")]
    [InlineData("See internal.northwind.io/runbooks/db-failover first.", "internal.northwind.io/runbooks/db-failover")]
    [InlineData("syslog goes to syslog.dc1.corp.acme.com port 514", "syslog.dc1.corp.acme.com")]
    [InlineData("the S3 proxy s3.internal.globex.co.uk/buckets", "s3.internal.globex.co.uk/buckets")]
    [InlineData("printer at http://printer.lan/admin", "printer.lan/admin")]
    [InlineData("photos on http://nas.home.arpa:5000/photos", "nas.home.arpa:5000/photos")]
    [InlineData("target payments.default.svc.cluster.local:8080 inside", "payments.default.svc.cluster.local:8080")]
    public void Scan_InternalHost_ReportsUrlFinding(string text, string host)
    {
        var findings = s_detector.Scan(text).Where(f => f.Category == Categories.Url).ToList();
        var finding = Assert.Single(findings);
        Assert.Contains(finding.Type, new[] { "intranet-host", "internal-domain" });
        Assert.Equal(host, text[finding.Start..finding.End]);
    }

    [Theory]
    [InlineData("Read the report on https://www.internalaffairs.gov/annual-report today.")]
    [InlineData("Visit corporate.com for our latest ads.")]
    [InlineData("Sale: https://www.corporate.com/ads/summer-sale")]
    [InlineData("The Acme Corp. board met on Tuesday.")]
    [InlineData("Careers: https://www.acme-corp.com/careers")]
    [InlineData("The story of https://corp.com is a DNS classic.")]
    [InlineData("Pricing is on https://internal.io/pricing for the tool.")]
    [InlineData("Subscribe to https://internalmedicine.org/journal")]
    [InlineData("The internal API returns 404 on /admin.")]
    [InlineData("import \"golang.org/x/tools/internal/event\"")]
    [InlineData("pip._internal.utils.misc is private API")]
    [InlineData("The trace ends in org.eclipse.jdt.internal.core.JavaModelManager.")]
    [InlineData("Replace Microsoft.Extensions.Internal.SystemClock with TimeProvider.")]
    [InlineData("The notes are in release-internal.md and config-internal.yaml.")]
    [InlineData("We kept it internal.Then we shipped.")]
    [InlineData("Kubernetes adds the svc.cluster.local suffix to every service name.")]
    [InlineData("The corporate site https://corporate.walmart.com/news is public.")]
    [InlineData("https://www.britannica.com/technology/internal-combustion-engine")]
    [InlineData("Our internal.json config file and corp.yaml are in the repo root.")]
    public void Scan_PublicLookAlike_ReportsNoUrl(string text) =>
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Category == Categories.Url);
}
