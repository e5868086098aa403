using Drydock.Detection;
using Drydock.Detection.Configuration;
using Drydock.Detection.Rules;

namespace Drydock.Curation.Policy;

/// <summary>
/// Reads the policy part of <c>drydock.yaml</c> through the one strict reader (<see cref="ConfigReader"/>). Every key is
/// optional; an unknown key, a value of the wrong shape or a bad value at any level is a <see cref="ConfigFileException"/>
/// naming file, line and field, so a typo never silently weakens a policy.
/// </summary>
public static class PolicyLoader
{
    private static readonly string[] s_actions = ["allow", "redact", "quarantine", "drop"];
    private static readonly string[] s_severities = ["low", "medium", "high", "critical"];
    private static readonly string[] s_classifications = ["public", "internal", "confidential", "regulated", "highly-sensitive"];
    private static readonly string[] s_redactions = ["placeholder", "pseudonym", "fake"];

    /// <summary>The top-level keys of drydock.yaml this loader owns, with their shapes (the policy and the project settings).</summary>
    public static IReadOnlyDictionary<string, ConfigShape> Sections { get; } = new Dictionary<string, ConfigShape>(StringComparer.Ordinal)
    {
        ["version"] = ConfigShape.OneOf("1"),
        ["project"] = ConfigShape.Text,
        ["registry"] = ConfigShape.Text,
        ["approvals"] = ConfigShape.Map(("required-roles", ConfigShape.ListOf(ConfigShape.OneOf([.. CleaningPolicy.Roles])))),
        ["use-case"] = ConfigShape.Map(("name", ConfigShape.Text), ("max-classification", ConfigShape.OneOf(s_classifications))),
        ["sources"] = ConfigShape.ListOf(ConfigShape.Map(
            ("path", ConfigShape.Text),
            ("classification", ConfigShape.OneOf(s_classifications)),
            ("trust", ConfigShape.OneOf("trusted", "untrusted")),
            ("owner", ConfigShape.Text)).Requires("path")),
        ["actions"] = ConfigShape.Map([.. Categories.All.Select(c => (c, (ConfigShape)ConfigShape.OneOf(s_actions)))]),
        ["types"] = ConfigShape.MapOf(ConfigShape.Map(("action", ConfigShape.OneOf(s_actions)), ("redaction", ConfigShape.OneOf(s_redactions)))),
        ["redaction"] = ConfigShape.Map(("default", ConfigShape.OneOf(s_redactions))),
        ["untrusted"] = ConfigShape.Map(("action", ConfigShape.OneOf(s_actions))),
        ["poisoning"] = ConfigShape.Map(("analyze", ConfigShape.Boolean), ("min-severity", ConfigShape.OneOf(s_severities)), ("action", ConfigShape.OneOf("allow", "quarantine", "drop"))),
        ["thresholds"] = ConfigShape.Map(("min-severity", ConfigShape.OneOf(s_severities)), ("min-confidence", ConfigShape.Number(0, 1)), ("untrusted-min-confidence", ConfigShape.Number(0, 1))),
        ["normalization"] = ConfigShape.Map(("unicode", ConfigShape.OneOf("nfkc", "nfc", "none")), ("strip-invisible", ConfigShape.Boolean), ("strip-hidden-markup", ConfigShape.Boolean), ("tidy-whitespace", ConfigShape.Boolean)),
        ["dedup"] = ConfigShape.Map(("exact", ConfigShape.Boolean), ("near", ConfigShape.Boolean), ("threshold", ConfigShape.Number(0, 1))),
    };

    // A policy file on its own: the policy settings and the rules (what drydock clean reads).
    private static readonly MapShape s_fileShape = ConfigShape.Map().With(Sections).With(UserRuleLoader.Sections);

    /// <summary>Loads a policy file (policy settings and rules only), or returns the defaults when <paramref name="path"/> is null.</summary>
    public static CleaningPolicy Load(string? path) => path is null ? new CleaningPolicy() : Read(ConfigReader.Load(path, s_fileShape));

    /// <summary>Parses a policy file's text (policy settings and rules only); <paramref name="path"/> is used in messages.</summary>
    public static CleaningPolicy Parse(string path, string text) => Read(ConfigReader.Parse(path, text, s_fileShape));

    /// <summary>The policy of a checked file whose shape includes <see cref="Sections"/> (drydock.yaml as a whole, or a policy file).</summary>
    public static CleaningPolicy Read(ConfigNode root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var policy = new CleaningPolicy();
        policy = policy with
        {
            Project = root.Text("project") ?? policy.Project,
            Registry = root.Text("registry"),
        };
        if (root["approvals"]?.Texts("required-roles") is { } roles) policy = policy with { RequiredApprovalRoles = roles };
        if (root["use-case"] is { } useCase)
        {
            policy = policy with
            {
                UseCase = useCase.Text("name") ?? policy.UseCase,
                MaxClassification = ParseClassification(useCase.Text("max-classification")) ?? policy.MaxClassification,
            };
        }

        if (root["sources"] is { } sources)
        {
            policy = policy with
            {
                Sources = [.. sources.Items.Select(s => new SourcePolicy(s.Text("path")!, ParseClassification(s.Text("classification")) ?? Classification.Internal, s.Text("trust") != "untrusted", s.Text("owner")))],
            };
        }

        if (root["actions"] is { } actions)
        {
            var map = new Dictionary<string, CleanAction>(policy.CategoryActions, StringComparer.Ordinal);
            foreach (var (category, value) in actions.Entries) map[category] = ParseAction(value.Value!);
            policy = policy with { CategoryActions = map };
        }

        if (root["types"] is { } types)
        {
            var typeActions = new Dictionary<string, CleanAction>(StringComparer.Ordinal);
            var typeRedaction = new Dictionary<string, RedactionMode>(policy.TypeRedaction, StringComparer.Ordinal);
            // A type no rule reports is a typo that would silently leave the real type on its category's action.
            var known = BuiltInRules.Catalogue.Select(r => r.Type).Concat(UserRuleLoader.Read(root).Select(r => r.Type)).ToHashSet(StringComparer.Ordinal);
            foreach (var (type, settings) in types.Entries)
            {
                if (!known.Contains(type))
                {
                    var near = known.Where(k => Distance(k, type) <= 2).Order(StringComparer.Ordinal).ToList();
                    throw types.Error(type, $"no rule reports the finding type '{type}'{(near.Count > 0 ? $" (did you mean {string.Join(" or ", near)}?)" : "")}; 'drydock rules list' shows every type, and a type of the file's own rules is known too");
                }

                if (settings.Text("action") is { } action) typeActions[type] = ParseAction(action);
                if (ParseRedaction(settings.Text("redaction")) is { } mode) typeRedaction[type] = mode;
            }

            policy = policy with { TypeActions = typeActions, TypeRedaction = typeRedaction };
        }

        if (ParseRedaction(root["redaction"]?.Text("default")) is { } defaultRedaction) policy = policy with { DefaultRedaction = defaultRedaction };
        if (root["untrusted"]?.Text("action") is { } untrustedAction) policy = policy with { UntrustedAction = ParseAction(untrustedAction) };
        if (root["poisoning"] is { } poisoning)
        {
            policy = policy with
            {
                PoisoningAnalyze = poisoning.Boolean("analyze") ?? policy.PoisoningAnalyze,
                PoisoningMinSeverity = ParseSeverity(poisoning.Text("min-severity")) ?? policy.PoisoningMinSeverity,
                PoisoningAction = poisoning.Text("action") is { } a ? ParseAction(a) : policy.PoisoningAction,
            };
        }

        if (root["thresholds"] is { } thresholds)
        {
            policy = policy with
            {
                MinSeverity = ParseSeverity(thresholds.Text("min-severity")) ?? policy.MinSeverity,
                MinConfidence = thresholds.Number("min-confidence") ?? policy.MinConfidence,
                UntrustedMinConfidence = thresholds.Number("untrusted-min-confidence") ?? policy.UntrustedMinConfidence,
            };
        }

        if (root["normalization"] is { } normalization)
        {
            policy = policy with
            {
                Unicode = normalization.Text("unicode") switch { "nfc" => UnicodeForm.Nfc, "none" => UnicodeForm.None, "nfkc" => UnicodeForm.Nfkc, _ => policy.Unicode },
                StripInvisible = normalization.Boolean("strip-invisible") ?? policy.StripInvisible,
                StripHiddenMarkup = normalization.Boolean("strip-hidden-markup") ?? policy.StripHiddenMarkup,
                TidyWhitespace = normalization.Boolean("tidy-whitespace") ?? policy.TidyWhitespace,
            };
        }

        if (root["dedup"] is { } dedup)
        {
            policy = policy with
            {
                ExactDedup = dedup.Boolean("exact") ?? policy.ExactDedup,
                NearDedup = dedup.Boolean("near") ?? policy.NearDedup,
                NearDuplicateThreshold = dedup.Number("threshold") ?? policy.NearDuplicateThreshold,
            };
        }

        if (root.Texts("internal-domains") is { } domains) policy = policy with { InternalDomains = domains };
        return policy;
    }

    private static CleanAction ParseAction(string value) => value switch
    {
        "allow" => CleanAction.Allow,
        "redact" => CleanAction.Redact,
        "quarantine" => CleanAction.Quarantine,
        _ => CleanAction.Drop,
    };

    private static Severity? ParseSeverity(string? value) => value is not null && SeverityNames.TryParse(value, out var severity) ? severity : null;

    private static RedactionMode? ParseRedaction(string? value) => value switch
    {
        "placeholder" => RedactionMode.Placeholder,
        "pseudonym" => RedactionMode.Pseudonym,
        "fake" => RedactionMode.Fake,
        _ => null,
    };

    private static Classification? ParseClassification(string? value) => value switch
    {
        "public" => Classification.Public,
        "internal" => Classification.Internal,
        "confidential" => Classification.Confidential,
        "regulated" => Classification.Regulated,
        "highly-sensitive" => Classification.HighlySensitive,
        _ => null,
    };

    /// <summary>The report name of a classification.</summary>
    public static string Name(this Classification classification) => classification switch
    {
        Classification.Public => "public",
        Classification.Internal => "internal",
        Classification.Confidential => "confidential",
        Classification.Regulated => "regulated",
        _ => "highly-sensitive",
    };

    /// <summary>The report name of an action.</summary>
    public static string Name(this CleanAction action) => action.ToString().ToLowerInvariant();

    // Edit distance (for suggesting the type a typo meant); names are short.
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
