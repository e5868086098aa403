using Drydock.Detection.Configuration;

namespace Drydock.Evaluation.Probes;

/// <summary>
/// One probe: the user turns sent in order (each answered by the target before the next), what marks success, and
/// what a safe model does. <see cref="Expect"/> <c>refuse</c> means the attack succeeds unless the model refuses.
/// </summary>
public sealed record Probe(
    string Id,
    string Family,
    IReadOnlyList<string> Owasp,
    IReadOnlyList<string> Turns,
    IReadOnlyList<string> Success,
    IReadOnlyList<string> Detect,
    bool LeaksSystemPrompt,
    string? Expect,
    IReadOnlyDictionary<string, string> Translations,
    string Suite);

/// <summary>A versioned probe suite (a YAML file in <c>Suites/</c>, or the user's own).</summary>
public sealed record ProbeSuite(string Name, int Version, string Description, IReadOnlyList<Probe> Probes)
{
    /// <summary>The SHA-256 of the suite's text: two suites of the same name and version but other probes differ here.</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>True for a suite shipped with Drydock, unchanged.</summary>
    public bool IsBuiltIn { get; init; }

    /// <summary>The suites shipped with Drydock.</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = [.. typeof(ProbeSuite).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("suites/", StringComparison.Ordinal)).Select(n => Path.GetFileNameWithoutExtension(n)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Loads a built-in suite by name, or a suite file by path. A built-in name always means the built-in suite, even
    /// when a file of that name is in the working folder; a file is given as a path with a folder separator or an
    /// extension (<c>./jailbreak.yaml</c>), so a file cannot stand in for a built-in suite.
    /// </summary>
    public static ProbeSuite Load(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        var isPath = nameOrPath.Contains('/', StringComparison.Ordinal) || nameOrPath.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.HasExtension(nameOrPath);
        if (isPath)
        {
            if (!File.Exists(nameOrPath)) throw new ProbeSuiteException($"{nameOrPath}: no such suite file");
            return Parse(File.ReadAllText(nameOrPath), nameOrPath);
        }

        using var stream = typeof(ProbeSuite).Assembly.GetManifestResourceStream($"suites/{nameOrPath}.yaml")
            ?? throw new ProbeSuiteException($"{nameOrPath}: no such built-in suite (built in: {string.Join(", ", BuiltIn.ToArray())}); give a suite file as a path with a folder or an extension (./{nameOrPath}.yaml)");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"{nameOrPath} (built in)") with { IsBuiltIn = true };
    }

    /// <summary>The shape of a suite file: every key a suite or a probe may have (anything else is an error).</summary>
    public static MapShape Shape { get; } = ConfigShape.Map(
        ("suite", ConfigShape.Text),
        ("version", ConfigShape.Integer(0)),
        ("description", ConfigShape.Text),
        ("probes", ConfigShape.ListOf(ConfigShape.Map(
            ("id", ConfigShape.Text),
            ("family", ConfigShape.Text),
            ("owasp", ConfigShape.ListOf(ConfigShape.Text)),
            ("prompt", ConfigShape.Text),
            ("turns", ConfigShape.ListOf(ConfigShape.Text)),
            ("success", ConfigShape.ListOf(ConfigShape.Text)),
            ("detect", ConfigShape.ListOf(ConfigShape.Text)),
            ("leaks-system-prompt", ConfigShape.Boolean),
            ("expect", ConfigShape.OneOf("refuse")),
            ("translations", ConfigShape.MapOf(ConfigShape.Text))).Requires("id", "family")))).Requires("suite", "version", "probes");

    /// <summary>Parses suite YAML; errors name the source, line and field.</summary>
    public static ProbeSuite Parse(string yaml, string source)
    {
        ConfigNode root;
        try
        {
            root = ConfigReader.Parse(source, yaml, Shape);
        }
        catch (ConfigFileException e)
        {
            throw new ProbeSuiteException(e.Message);
        }

        var name = root.Text("suite")!;
        var result = new List<Probe>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in root["probes"]!.Items)
        {
            var id = p.Text("id")!;
            if (!ids.Add(id)) throw new ProbeSuiteException(p.Error("id", $"'{id}' is used twice").Message);
            var turns = (p.Texts("turns") ?? []).ToList();
            if (p.Text("prompt") is { } prompt) turns.Insert(0, prompt);
            if (turns.Count == 0) throw new ProbeSuiteException(p.Error("prompt", $"probe {id}: prompt or turns is required").Message);
            var expect = p.Text("expect");
            var success = p.Texts("success") ?? [];
            var detect = p.Texts("detect") ?? [];
            var leaks = p.Boolean("leaks-system-prompt") ?? false;
            if (success.Count == 0 && detect.Count == 0 && !leaks && expect is null) throw new ProbeSuiteException(p.Error($"probe {id}: nothing says what success is (success, detect, leaks-system-prompt or expect)").Message);
            var translations = p["translations"]?.Entries.ToDictionary(kv => kv.Key, kv => kv.Value.Value ?? "", StringComparer.Ordinal) ?? new Dictionary<string, string>(StringComparer.Ordinal);
            result.Add(new Probe(id, p.Text("family")!, p.Texts("owasp") ?? [], turns, success, detect, leaks, expect, translations, name));
        }

        return new ProbeSuite(name, root.Integer("version")!.Value, root.Text("description") ?? "", result)
        {
            Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(yaml))),
        };
    }
}

/// <summary>A suite file that cannot be read (the message names source, line and field): exit code 2.</summary>
public sealed class ProbeSuiteException(string message) : Exception(message);
