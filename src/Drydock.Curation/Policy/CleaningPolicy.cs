using Drydock.Datasets.Input;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Drydock.Detection;

namespace Drydock.Curation.Policy;

/// <summary>What to do with a finding: keep it, replace it, set the record aside for review, or remove the record.</summary>
public enum CleanAction
{
    /// <summary>Keep the value.</summary>
    Allow,
    /// <summary>Replace the value (placeholder, pseudonym or fake).</summary>
    Redact,
    /// <summary>Set the whole record aside in the quarantine file, with reasons.</summary>
    Quarantine,
    /// <summary>Remove the record (recorded in the ledger).</summary>
    Drop,
}

/// <summary>How a redacted value is replaced.</summary>
public enum RedactionMode
{
    /// <summary>A typed placeholder such as <c>[EMAIL]</c>.</summary>
    Placeholder,
    /// <summary>A consistent pseudonym such as <c>[PERSON_3f9a2c]</c>: the same value gets the same pseudonym everywhere (HMAC-keyed).</summary>
    Pseudonym,
    /// <summary>A realistic fake value of the same kind (names, e-mail addresses, phone numbers), the same for the same value.</summary>
    Fake,
}

/// <summary>Data classifications, in increasing sensitivity.</summary>
public enum Classification
{
    /// <summary>Public.</summary>
    Public,
    /// <summary>Internal.</summary>
    Internal,
    /// <summary>Confidential.</summary>
    Confidential,
    /// <summary>Regulated (payment cards, national ids).</summary>
    Regulated,
    /// <summary>Highly sensitive (credentials).</summary>
    HighlySensitive,
}

/// <summary>Unicode normalization form applied before detection.</summary>
public enum UnicodeForm
{
    /// <summary>No normalization.</summary>
    None,
    /// <summary>Canonical composition.</summary>
    Nfc,
    /// <summary>Compatibility composition (folds full-width letters, ligatures, superscripts).</summary>
    Nfkc,
}

/// <summary>A declared data source.</summary>
/// <param name="Path">A path or glob matched against input paths.</param>
/// <param name="Classification">Its classification.</param>
/// <param name="Trusted">False for untrusted sources (stricter thresholds).</param>
/// <param name="Owner">Who answers for it.</param>
public sealed record SourcePolicy(string Path, Classification Classification, bool Trusted, string? Owner);

/// <summary>
/// The cleaning policy of <c>drydock.yaml</c>, with a safe default for every setting (see docs/clean.md and
/// docs/schemas/drydock.schema.json). Immutable; <see cref="Hash"/> identifies it in ledgers and manifests.
/// </summary>
public sealed record CleaningPolicy
{
    /// <summary>The use case's name.</summary>
    public string UseCase { get; init; } = "default";

    /// <summary>The approval roles.</summary>
    public static readonly IReadOnlyList<string> Roles = ["data-owner", "security-reviewer"];

    /// <summary>The project (threat models and approvals are per project).</summary>
    public string Project { get; init; } = "default";

    /// <summary>The registry: a SQLite file path or a postgres:// URL (null: .drydock/registry.db).</summary>
    public string? Registry { get; init; }

    /// <summary>The roles that must approve a dataset or model before it is approved.</summary>
    public IReadOnlyList<string> RequiredApprovalRoles { get; init; } = Roles;

    /// <summary>The most sensitive classification the use case may train on.</summary>
    public Classification MaxClassification { get; init; } = Classification.Confidential;

    /// <summary>Declared sources (an input matching none is an unnamed, trusted, internal source).</summary>
    public IReadOnlyList<SourcePolicy> Sources { get; init; } = [];

    /// <summary>Action per category.</summary>
    public IReadOnlyDictionary<string, CleanAction> CategoryActions { get; init; } = new Dictionary<string, CleanAction>(StringComparer.Ordinal)
    {
        [Categories.Pii] = CleanAction.Redact,
        [Categories.Secret] = CleanAction.Redact,
        [Categories.Injection] = CleanAction.Quarantine,
        [Categories.HiddenText] = CleanAction.Redact,
        [Categories.Markup] = CleanAction.Redact,
        [Categories.Url] = CleanAction.Redact,
        [Categories.Malware] = CleanAction.Quarantine,
    };

    /// <summary>Action per type (overrides the category's).</summary>
    public IReadOnlyDictionary<string, CleanAction> TypeActions { get; init; } = new Dictionary<string, CleanAction>(StringComparer.Ordinal);

    /// <summary>Redaction mode per type (others use <see cref="DefaultRedaction"/>).</summary>
    public IReadOnlyDictionary<string, RedactionMode> TypeRedaction { get; init; } = new Dictionary<string, RedactionMode>(StringComparer.Ordinal)
    {
        ["person-name"] = RedactionMode.Pseudonym,
    };

    /// <summary>Redaction mode of types not listed.</summary>
    public RedactionMode DefaultRedaction { get; init; } = RedactionMode.Placeholder;

    /// <summary>Findings below this severity are allowed.</summary>
    public Severity MinSeverity { get; init; } = Severity.Low;

    /// <summary>Findings below this confidence are allowed (trusted sources).</summary>
    public double MinConfidence { get; init; } = 0.5;

    /// <summary>Findings below this confidence are allowed (untrusted sources: lower, so more is acted on).</summary>
    public double UntrustedMinConfidence { get; init; } = 0.3;

    /// <summary>Unicode normalization form.</summary>
    public UnicodeForm Unicode { get; init; } = UnicodeForm.Nfkc;

    /// <summary>Remove invisible, bidi, tag and variation-selector characters.</summary>
    public bool StripInvisible { get; init; } = true;

    /// <summary>Remove HTML comments, CSS-hidden elements and active content (visible text stays).</summary>
    public bool StripHiddenMarkup { get; init; } = true;

    /// <summary>Collapse runs of spaces, trim line ends, at most one blank line.</summary>
    public bool TidyWhitespace { get; init; } = true;

    /// <summary>Drop exact duplicates (same normalised content).</summary>
    public bool ExactDedup { get; init; } = true;

    /// <summary>Drop near duplicates (MinHash estimate of Jaccard similarity at or above <see cref="NearDuplicateThreshold"/>).</summary>
    public bool NearDedup { get; init; } = true;

    /// <summary>MinHash estimate of the Jaccard similarity of character 5-shingles at which two records are near duplicates.</summary>
    public double NearDuplicateThreshold { get; init; } = Datasets.Similarity.NearDuplicateIndex.DefaultThreshold;

    /// <summary>The least action a finding (at or above the thresholds) gets in a record from an untrusted source.</summary>
    public CleanAction UntrustedAction { get; init; } = CleanAction.Quarantine;

    /// <summary>Run the poisoning analysis before cleaning and act on the records it flags.</summary>
    public bool PoisoningAnalyze { get; init; }

    /// <summary>Records in poisoning findings at or above this severity are acted on.</summary>
    public Severity PoisoningMinSeverity { get; init; } = Severity.High;

    /// <summary>What happens to them: quarantine (default), drop, or allow (ledgered only).</summary>
    public CleanAction PoisoningAction { get; init; } = CleanAction.Quarantine;

    /// <summary>Domains the project declares internal (also a url rule).</summary>
    public IReadOnlyList<string> InternalDomains { get; init; } = [];

    /// <summary>The effective action for a finding.</summary>
    public CleanAction ActionFor(Finding finding, bool trusted)
    {
        ArgumentNullException.ThrowIfNull(finding);
        if (finding.Severity < MinSeverity || finding.Confidence < (trusted ? MinConfidence : UntrustedMinConfidence))
        {
            return CleanAction.Allow;
        }

        var action = TypeActions.TryGetValue(finding.Type, out var byType) ? byType
            : CategoryActions.TryGetValue(finding.Category, out var byCategory) ? byCategory
            : CleanAction.Allow;

        // Untrusted data is not redacted into training: what is acted on at all gets at least the untrusted action.
        return !trusted && action != CleanAction.Allow && action < UntrustedAction ? UntrustedAction : action;
    }

    /// <summary>The declared source an input file belongs to (the first whose path or glob matches), else an undeclared, trusted, internal one.</summary>
    public SourcePolicy SourceOf(string file)
    {
        var normalized = file.Replace('\\', '/');
        foreach (var source in Sources)
        {
            if (InputFiles.GlobMatches(source.Path.Replace('\\', '/'), normalized) || normalized.StartsWith(source.Path.TrimEnd('/') + "/", StringComparison.Ordinal)
                || string.Equals(normalized, source.Path, StringComparison.Ordinal))
            {
                return source;
            }
        }

        return new SourcePolicy("(undeclared)", Classification.Internal, Trusted: true, Owner: null);
    }

    /// <summary>The redaction mode of a type.</summary>
    public RedactionMode RedactionFor(string type) => TypeRedaction.TryGetValue(type, out var mode) ? mode : DefaultRedaction;

    /// <summary>The classification a finding implies about its record.</summary>
    public static Classification Implied(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        return finding.Category switch
        {
            Categories.Secret => Classification.HighlySensitive,
            Categories.Pii => finding.Type switch
            {
                "credit-card" or "us-ssn" or "iban" or "uk-nino" or "es-dni" or "it-fiscal-code" or "in-aadhaar" => Classification.Regulated,
                "ipv4" or "ipv6" => Classification.Internal,
                _ => Classification.Confidential,
            },
            Categories.Url => Classification.Internal,
            _ => Classification.Public,
        };
    }

    /// <summary>SHA-256 of the policy's canonical text: the same settings give the same hash.</summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical())));

    private string Canonical()
    {
        var b = new StringBuilder();
        void Line(string key, object value) => b.Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
        Line("use-case", UseCase);
        Line("max-classification", MaxClassification);
        foreach (var s in Sources) Line("source", $"{s.Path}|{s.Classification}|{s.Trusted}|{s.Owner}");
        foreach (var kv in CategoryActions.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Line($"category.{kv.Key}", kv.Value);
        foreach (var kv in TypeActions.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Line($"type.{kv.Key}", kv.Value);
        foreach (var kv in TypeRedaction.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Line($"redaction.{kv.Key}", kv.Value);
        Line("redaction", DefaultRedaction);
        Line("min-severity", MinSeverity);
        Line("min-confidence", MinConfidence);
        Line("untrusted-min-confidence", UntrustedMinConfidence);
        Line("untrusted-action", UntrustedAction);
        Line("poisoning", $"{PoisoningAnalyze}|{PoisoningMinSeverity}|{PoisoningAction}");
        Line("unicode", Unicode);
        Line("strip-invisible", StripInvisible);
        Line("strip-hidden-markup", StripHiddenMarkup);
        Line("tidy-whitespace", TidyWhitespace);
        Line("exact-dedup", ExactDedup);
        Line("near-dedup", NearDedup);
        Line("near-threshold", NearDuplicateThreshold);
        foreach (var d in InternalDomains) Line("internal-domain", d);
        return b.ToString();
    }
}
