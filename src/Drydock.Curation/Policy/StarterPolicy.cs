namespace Drydock.Curation.Policy;

/// <summary>The commented drydock.yaml that <c>drydock init</c> writes: every setting at its default value.</summary>
public static class StarterPolicy
{
    /// <summary>The file's text. Loading it gives exactly the built-in defaults (a test checks the policy hashes match).</summary>
    public const string Text = """
        # drydock.yaml: the project and policy file of Drydock (schema: docs/schemas/drydock.schema.json).
        # Every setting below is at its default: delete what you do not change. Docs: docs/clean.md, docs/rules.md.
        version: 1

        # The project: threat models and approvals are per project (docs/provenance.md).
        project: default
        # The registry of datasets, models, approvals and the audit log: a SQLite file (the default) or a
        # postgres://user@host:5432/db URL for a team. --registry and DRYDOCK_REGISTRY override it.
        # registry: .drydock/registry.db
        # Who must approve a dataset or model before it is approved for training or release.
        approvals:
          required-roles: [data-owner, security-reviewer]

        # What the data is for, and the most sensitive data it may hold:
        # public < internal < confidential < regulated (cards, national ids) < highly-sensitive (credentials).
        # A record whose findings imply more than this is quarantined with that reason.
        use-case:
          name: default
          max-classification: confidential

        # Where data comes from. Inputs are matched by path or glob; an input matching none is trusted and internal.
        # A source classified above the use case's maximum is quarantined whole; untrusted sources get stricter thresholds.
        sources: []
        #  - path: data/tickets/**
        #    classification: confidential     # public | internal | confidential | regulated | highly-sensitive
        #    trust: trusted                   # trusted | untrusted
        #    owner: support-platform-team

        # What to do with findings, per category: allow | redact | quarantine | drop.
        actions:
          pii: redact
          secret: redact            # credentials imply highly-sensitive data, so with the use case above they are quarantined
          injection: quarantine
          hidden-text: redact
          markup: redact
          url: redact
          malware: quarantine

        # Per type: an action overriding the category's, and/or how values are replaced:
        # placeholder ([EMAIL]) | pseudonym ([PERSON_NAME_3f9a2c], the same value everywhere, HMAC-keyed) | fake (Bogus values).
        types:
          person-name:
            redaction: pseudonym
        #  email:
        #    redaction: fake
        #  ipv4:
        #    action: allow

        redaction:
          default: placeholder

        # Findings below these are allowed. Untrusted sources use the lower confidence bar.
        thresholds:
          min-severity: low
          min-confidence: 0.5
          untrusted-min-confidence: 0.3

        # Untrusted sources (vendors, scraped or community data): a finding that would be redacted in trusted
        # data quarantines the record instead (allow | redact | quarantine | drop), for a person to review.
        untrusted:
          action: quarantine

        # Dataset-level poisoning analysis before cleaning (docs/poisoning.md): backdoor triggers, payload
        # stuffing, contradictory answers, outliers. Records in findings at or above min-severity get the action.
        poisoning:
          analyze: false
          min-severity: high          # low | medium | high | critical
          action: quarantine          # quarantine | drop | allow (ledgered only)

        normalization:
          unicode: nfkc               # nfkc | nfc | none
          strip-invisible: true       # zero-width, bidi, tag and variation-selector characters
          strip-hidden-markup: true   # HTML comments, CSS-hidden elements, scripts (visible text stays)
          tidy-whitespace: true       # runs of spaces, trailing spaces, extra blank lines (indentation stays)

        dedup:
          exact: true
          near: true
          threshold: 0.8              # Jaccard similarity of word 3-shingles (MinHash, 16 bands of 6 rows)

        # Domains used only inside the company: hosts under them are url findings.
        internal-domains: []

        # Extra detection rules (see docs/rules.md, "Your own rules").
        rules: []

        """;
}
