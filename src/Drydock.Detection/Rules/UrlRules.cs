using System.Text.RegularExpressions;
using Drydock.Detection.Engine;

namespace Drydock.Detection.Rules;

/// <summary>
/// Internal and suspicious links (category <c>url</c>): hosts that reveal how a company is wired (private and
/// loopback addresses, internal domain suffixes, intranet-style and single-label hosts, UNC paths, domains a
/// project declares internal) and, at low severity, link shorteners and raw-IP links. Public documentation links
/// are not findings.
/// </summary>
public static partial class UrlRules
{
    // The host of a URL: what follows the scheme and any user info, up to the port, path or end.
    private const string HostEnd = @"(?=[:/?#\s""'`<>)\]]|$)";

    // One DNS label and its dot.
    private const string Label = @"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)";

    // A label that names an internal service by convention, and the labels after it up to the top-level domain:
    // "payments-internal." or "internal-tools." (may be the registered name itself: companies register such
    // domains for staff only), or "internal.", "intranet.", "corp." as a whole label below a registered name
    // ("wiki.corp.acme.com", "internal.acme.io"; not "corp.com" or "internal.io", which are public sites, and not
    // "internalaffairs.gov", "corporate.com" or "acme-corp.com").
    private const string MarkedLabels = @"(?:[a-z0-9-]{0,61}[a-z0-9]-(?:internal|intranet)\." + Label + @"{0,4}|(?:internal|intranet)-[a-z0-9-]{0,61}[a-z0-9]\." + Label + @"{0,4}|(?:internal|intranet|corp)\." + Label + @"{1,4})";

    private static Rule Url(string id, string type, string description, Regex pattern, string[] keywords, string[] examples, string[] counterExamples,
        Severity severity = Severity.Medium, double confidence = 0.9, CandidateValidator? validator = null) =>
        CatalogueRule.Create(Categories.Url, id, type, description, pattern, keywords, examples, counterExamples, severity, confidence,
            windowBefore: 200, windowAfter: 260, show: true, validator);

    internal static IEnumerable<Rule> All()
    {
        yield return Url("DD-URL-001", "private-address", "Link to a private, loopback or link-local address (RFC 1918, 127/8, 169.254/16, fc00::/7, fe80::/10)",
            PrivateAddress(), ["://"],
            ["The dashboard is at http://10.12.4.7:8080/admin", "curl https://192.168.1.20/api/v1/users", "open http://127.0.0.1:5000", "metadata at http://169.254.169.254/latest/", "see http://[fd12:3456::1]/"],
            ["See https://8.8.8.8/ for DNS", "version 10.12.4.7 of the tool", "https://docs.python.org/3/library/ipaddress.html"]);
        yield return Url("DD-URL-002", "internal-domain", "Host under a suffix used only inside networks (.internal, .local, .corp, .lan, .intranet, .localdomain, .home.arpa)",
            InternalSuffix(), [".internal", ".local", ".corp", ".lan", ".intranet", ".localdomain", ".home.arpa"],
            ["Logs go to https://elk.prod.internal/app-logs", "ssh build01.corp and restart", "printer at http://hp-3f.office.lan/", "db-primary.payments.local:5432"],
            ["Use localStorage.local for caching", "storage = threading.local()", "the .local suffix is reserved by RFC 6762", "https://www.lancaster.ac.uk/", "http://example.com/corporate/"]);
        yield return Url("DD-URL-003", "intranet-host", "Intranet-style or single-label host in a link (http://jira/, http://wiki.intranet.example/, localhost)",
            IntranetHost(), ["://", "internal.", "internal-", "intranet.", "intranet-", ".corp."],
            ["Ticket: http://jira/browse/OPS-142", "see https://confluence:8443/display/SEC", "http://localhost:3000/debug", "https://intranet.acme-corp.com/hr/salaries",
             "https://deploy.payments-internal.io/runbooks/rollback", "https://wiki.corp.contoso.com/display/OPS", "scrape http://orders.checkout.svc:9090/metrics",
             "see deploy.payments-internal.io/runbooks/rollback", "ssh build-07.ci-internal.net", "docs at internal.northwind.io/runbooks", "syslog to syslog.dc1.corp.acme.com port 514"],
            ["https://github.com/org/repo", "http://example.com", "https://en.wikipedia.org/wiki/Intranet", "git clone https://deploy:s3cret@git.example.com/repo.git",
             "https://www.internalaffairs.gov/", "visit corporate.com for deals", "https://www.corporate.com/ads", "https://www.acme-corp.com/careers", "public site https://corp.com/",
             "https://internal.io/pricing", "the trace ends in org.eclipse.jdt.internal.core.JavaModel", "notes in release-internal.md", "pip._internal.utils", "we kept it internal.Then shipped"]);
        yield return Url("DD-URL-004", "unc-path", "Windows UNC path to a network share (\\\\server\\share)",
            UncPath(), ["\\\\"],
            [@"copy to \\fileserver01\finance$\q3", @"mapped \\10.0.0.5\backups"],
            [@"escape a backslash as \\ in strings", @"regex \\d+ matches digits"]);
        yield return Url("DD-URL-005", "url-shortener", "Link through a URL shortener (the destination is hidden)",
            Shortener(), ["bit.ly/", "tinyurl.com/", "t.co/", "goo.gl/", "ow.ly/", "is.gd/", "buff.ly/", "cutt.ly/", "rebrand.ly/", "tiny.cc/", "shorturl.at/", "rb.gy/", "t.ly/"],
            ["details at https://bit.ly/3xYz9Q", "click tinyurl.com/yc7x2abc now"],
            ["https://www.bitly.com/pages/pricing", "visit https://about.t.company.com/"], Severity.Low, 0.8);
        yield return Url("DD-URL-006", "raw-ip-link", "Link to a public host given as a raw IP address",
            RawIpLink(), ["://"],
            ["download http://203.0.113.50/payload.bin", "api at https://198.51.100.23:8443/v2"],
            ["http://10.0.0.1/ is private (a separate rule)", "IP 203.0.113.50 without a scheme"], Severity.Low, 0.8, PublicIpv4);
    }

    /// <summary>A rule for the domains a project declares internal in drydock.yaml (<c>internal-domains:</c>).</summary>
    public static Rule ForInternalDomains(IReadOnlyList<string> domains)
    {
        ArgumentNullException.ThrowIfNull(domains);
        var cleaned = domains.Select(d => d.Trim().TrimStart('.').ToLowerInvariant()).Where(d => d.Length > 0).Distinct().ToArray();
        var alternatives = string.Join('|', cleaned.Select(Regex.Escape));
        var pattern = new Regex($@"(?<![A-Za-z0-9-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.){{0,8}}(?:{alternatives})(?![A-Za-z0-9-]|\.[A-Za-z0-9])",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var example = "https://vault." + cleaned[0] + "/";
        return Url("DD-URL-100", "configured-internal-domain", "Host under a domain declared internal in drydock.yaml", pattern, cleaned,
            [example], ["https://example.org/"]);
    }

    private static double PublicIpv4(string value, string text, int start)
    {
        var host = value[(value.IndexOf("//", StringComparison.Ordinal) + 2)..];
        return host.StartsWith("10.", StringComparison.Ordinal) || host.StartsWith("127.", StringComparison.Ordinal) || host.StartsWith("192.168.", StringComparison.Ordinal)
            || host.StartsWith("169.254.", StringComparison.Ordinal) || PrivateAddress().IsMatch(value) ? 0 : 0.8;
    }

    [GeneratedRegex(@"\b[a-z][a-z0-9+.-]{1,15}://(?:[^\s/@""'<>]{1,64}@)?(?:10\.[0-9]{1,3}|127\.[0-9]{1,3}|192\.168|169\.254|172\.(?:1[6-9]|2[0-9]|3[01]))\.[0-9]{1,3}\.[0-9]{1,3}" + HostEnd + @"[^\s""'<>]{0,200}|\b[a-z][a-z0-9+.-]{1,15}://\[(?:f[cd][0-9a-f]{2}|fe[89ab][0-9a-f]|::1\])[0-9a-f:.%\]]{0,60}[^\s""'<>]{0,200}",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PrivateAddress();

    // "svc.cluster.local" alone is Kubernetes' suffix, named in prose; a service host has a name before it.
    [GeneratedRegex(@"(?<![A-Za-z0-9_.-])(?!(?:svc\.)?cluster\.local(?![A-Za-z0-9.-]))(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}(?:internal|local|corp|lan|intranet|localdomain|home\.arpa)(?![A-Za-z0-9_(-]|\.[A-Za-z0-9])(?::[0-9]{1,5})?(?:/[^\s""'<>]{0,200})?",
        RegexOptions.CultureInvariant)]
    private static partial Regex InternalSuffix();

    [GeneratedRegex(@"\b[a-z][a-z0-9+.-]{1,15}://(?:[^\s/@""'<>]{1,64}@)?(?![^\s/?#]{0,200}@)(?:localhost|[a-z][a-z0-9-]{1,62}(?=[:/?#]|\s|$)|(?:intranet|internal|corp|wiki|jira|confluence|gitlab|grafana|kibana|jenkins|vault|admin|hr|sharepoint)[.-][a-z0-9.-]{1,200}?\.(?:com|net|org|io|co|[a-z]{2})|" + Label + @"{0,6}" + MarkedLabels + @"[a-z]{2,24}|" + Label + @"{1,4}svc)" + HostEnd + @"[^\s""'<>]{0,200}"
        // Written without a scheme, a host must be lower case (not a namespace such as "Microsoft.Internal.Foo") and end
        // in a common top-level domain that is not also a file extension ("release-internal.md", "config-internal.yaml").
        + @"|(?-i:(?<![A-Za-z0-9_.@/\\:-])" + Label + @"{0,6}" + MarkedLabels + @"(?:com|net|org|io|co|dev|app|cloud|tech|biz|ai|us|uk|de|fr|nl|eu|ca|au|jp|ch|se|no|dk|fi|es|it|be|at|pl|ie|nz|sg|in|br)(?![A-Za-z0-9_-]|\.[A-Za-z0-9])(?::[0-9]{1,5})?(?:/[^\s""'<>]{0,200})?)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex IntranetHost();

    [GeneratedRegex(@"(?<![\\A-Za-z0-9])\\\\[A-Za-z0-9][A-Za-z0-9._-]{0,62}\\[A-Za-z0-9$._-]{1,80}(?:\\[^\s\\""'<>]{1,80}){0,10}")]
    private static partial Regex UncPath();

    [GeneratedRegex(@"(?<![A-Za-z0-9.-])(?:https?://)?(?:bit\.ly|tinyurl\.com|t\.co|goo\.gl|ow\.ly|is\.gd|buff\.ly|cutt\.ly|rebrand\.ly|tiny\.cc|shorturl\.at|rb\.gy|t\.ly)/[A-Za-z0-9_-]{3,40}",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Shortener();

    [GeneratedRegex(@"\b(?:https?|ftp)://(?:[0-9]{1,3}\.){3}[0-9]{1,3}" + HostEnd + @"[^\s""'<>]{0,200}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RawIpLink();
}
