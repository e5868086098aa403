using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

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

    /// <summary>Loads a built-in suite by name, or a suite file by path.</summary>
    public static ProbeSuite Load(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (File.Exists(nameOrPath)) return Parse(File.ReadAllText(nameOrPath), nameOrPath);
        using var stream = typeof(ProbeSuite).Assembly.GetManifestResourceStream($"suites/{nameOrPath}.yaml")
            ?? throw new ProbeSuiteException($"{nameOrPath}: no such suite file or built-in suite (built in: {string.Join(", ", BuiltIn.ToArray())})");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"{nameOrPath} (built in)") with { IsBuiltIn = true };
    }

    /// <summary>Parses suite YAML; errors name the source, line and field.</summary>
    public static ProbeSuite Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ProbeSuiteException($"{source}:{e.Start.Line}: {e.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root) throw new ProbeSuiteException($"{source}:1: a suite is a mapping with suite, version and probes");
        string? Scalar(YamlMappingNode node, string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? (v as YamlScalarNode)?.Value : null;
        List<string> List(YamlMappingNode node, string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var v)
            ? v switch
            {
                YamlSequenceNode s => [.. s.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw new ProbeSuiteException($"{source}:{c.Start.Line}: field {key}: items must be text"))],
                YamlScalarNode one => [one.Value ?? ""],
                _ => throw new ProbeSuiteException($"{source}:{v.Start.Line}: field {key} must be a list"),
            }
            : [];
        var name = Scalar(root, "suite") ?? throw new ProbeSuiteException($"{source}:{root.Start.Line}: field suite is required");
        var version = int.TryParse(Scalar(root, "version"), out var v) ? v : throw new ProbeSuiteException($"{source}:{root.Start.Line}: field version must be an integer");
        if (!root.Children.TryGetValue(new YamlScalarNode("probes"), out var probesNode) || probesNode is not YamlSequenceNode probes) throw new ProbeSuiteException($"{source}:{root.Start.Line}: field probes must be a list");
        var result = new List<Probe>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in probes.Children)
        {
            if (node is not YamlMappingNode p) throw new ProbeSuiteException($"{source}:{node.Start.Line}: each probe is a mapping");
            var line = p.Start.Line;
            var id = Scalar(p, "id") ?? throw new ProbeSuiteException($"{source}:{line}: field id is required");
            if (!ids.Add(id)) throw new ProbeSuiteException($"{source}:{line}: field id: '{id}' is used twice");
            var turns = List(p, "turns");
            if (Scalar(p, "prompt") is { } prompt) turns.Insert(0, prompt);
            if (turns.Count == 0) throw new ProbeSuiteException($"{source}:{line}: probe {id}: field prompt or turns is required");
            var expect = Scalar(p, "expect");
            if (expect is not (null or "refuse")) throw new ProbeSuiteException($"{source}:{line}: probe {id}: field expect: '{expect}' is not refuse");
            var success = List(p, "success");
            var detect = List(p, "detect");
            var leaks = Scalar(p, "leaks-system-prompt") == "true";
            if (success.Count == 0 && detect.Count == 0 && !leaks && expect is null) throw new ProbeSuiteException($"{source}:{line}: probe {id}: nothing says what success is (success, detect, leaks-system-prompt or expect)");
            var translations = p.Children.TryGetValue(new YamlScalarNode("translations"), out var t) && t is YamlMappingNode tm
                ? tm.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value ?? "", kv => (kv.Value as YamlScalarNode)?.Value ?? "", StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal);
            result.Add(new Probe(id, Scalar(p, "family") ?? throw new ProbeSuiteException($"{source}:{line}: probe {id}: field family is required"),
                List(p, "owasp"), turns, success, detect, leaks, expect, translations, name));
        }

        return new ProbeSuite(name, version, Scalar(root, "description") ?? "", result)
        {
            Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(yaml))),
        };
    }
}

/// <summary>A suite file that cannot be read (the message names source, line and field): exit code 2.</summary>
public sealed class ProbeSuiteException(string message) : Exception(message);
