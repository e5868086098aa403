using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Drydock.Detection.Configuration;

/// <summary>
/// The one reader of Drydock's YAML files (drydock.yaml, rule files, threat models, probe suites): parses a file once,
/// checks the whole document against its declared <see cref="ConfigShape"/> (unknown keys, mappings, lists and
/// values of the wrong kind, missing required keys, at every level) and hands out the checked tree. Errors are
/// <see cref="ConfigFileException"/>s naming file, line and field; nothing is silently ignored.
/// </summary>
public static class ConfigReader
{
    /// <summary>The largest configuration file read (1 MiB): a bigger one is a mistake or an attack, never a policy.</summary>
    public const long MaxFileBytes = 1 << 20;

    /// <summary>Reads and checks <paramref name="path"/> (a regular file of at most <see cref="MaxFileBytes"/>).</summary>
    public static ConfigNode Load(string path, MapShape shape)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            if (RegularFiles.Problem(path) is { } notRegular) throw new ConfigFileException(path, 0, "file", notRegular);
            text = RegularFiles.ReadAllText(path, MaxFileBytes);
        }
        catch (FileNotFoundException)
        {
            throw new ConfigFileException(path, 0, "file", "no such file");
        }
        catch (DirectoryNotFoundException)
        {
            throw new ConfigFileException(path, 0, "file", "no such file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigFileException(path, 0, "file", $"cannot read: {e.Message.Replace(path + ": ", "", StringComparison.Ordinal)}");
        }

        return Parse(path, text, shape);
    }

    /// <summary>Parses and checks YAML <paramref name="text"/>; <paramref name="path"/> names it in messages. An empty document is an empty mapping.</summary>
    public static ConfigNode Parse(string path, string text, MapShape shape)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(shape);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ConfigFileException(path, e.Start.Line, "yaml", e.InnerException?.Message ?? e.Message);
        }
        catch (ArgumentException e)
        {
            // YamlDotNet reports a key given twice in one mapping this way.
            throw new ConfigFileException(path, 0, "yaml", $"a key is given twice in one mapping ({e.Message})");
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's parser state machine throws this on some malformed documents (found by fuzzing): still a
            // file that cannot be used as written, not a crash.
            throw new ConfigFileException(path, 0, "yaml", $"malformed YAML ({e.Message})");
        }

        if (stream.Documents.Count > 1) throw new ConfigFileException(path, stream.Documents[1].RootNode.Start.Line, "yaml", "the file must hold one YAML document");
        var root = stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" } ? new YamlMappingNode() : stream.Documents[0].RootNode;
        var node = new ConfigNode(path, "", root, shape);
        Check(node);
        return node;
    }

    /// <summary>Reads a YAML boolean word, or null.</summary>
    public static bool? ParseBoolean(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        _ => null,
    };

    private static void Check(ConfigNode node)
    {
        switch (node.Shape)
        {
            case MapShape map:
                if (node.Node is not YamlMappingNode mapping) throw node.Error(node.Field.Length == 0 ? "the file must be a mapping of settings" : "must be a mapping");
                foreach (var (keyNode, _) in mapping.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key }) throw new ConfigFileException(node.File, keyNode.Start.Line, node.Field.Length == 0 ? "yaml" : node.Field, "keys must be single words");
                    if (map.AnyKey is null && !map.Fields.ContainsKey(key))
                    {
                        throw new ConfigFileException(node.File, keyNode.Start.Line, ConfigNode.Join(node.Field, key), $"unknown setting; known here: {string.Join(", ", map.Fields.Keys.Order(StringComparer.Ordinal))}");
                    }
                }

                foreach (var key in map.Required)
                {
                    if (!mapping.Children.ContainsKey(new YamlScalarNode(key))) throw new ConfigFileException(node.File, mapping.Start.Line, ConfigNode.Join(node.Field, key), "is required");
                }

                foreach (var (_, child) in node.Entries) Check(child);
                break;
            case ListShape:
                if (node.Node is not YamlSequenceNode) throw node.Error("must be a list");
                foreach (var item in node.Items) Check(item);
                break;
            case ValueShape value:
                if (node.Node is not YamlScalarNode scalar) throw node.Error(value.Kind == ValueKind.Text ? "must be a single value" : $"must be a single value ({value.Kind.ToString().ToLowerInvariant()})");
                if (value.Check(scalar.Value ?? "") is { } problem) throw node.Error(problem);
                // A quoted scalar is text to YAML (and to the JSON Schema): "0.1" where a number belongs is refused, not read as one.
                if (value.Kind is ValueKind.Integer or ValueKind.Number or ValueKind.NumberOrChoice && scalar.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted
                    && !value.Choices.Contains(scalar.Value ?? ""))
                {
                    throw node.Error($"'{scalar.Value}' is quoted, which makes it text: write the number without quotes");
                }

                break;
            default:
                throw new InvalidOperationException($"unknown shape {node.Shape.GetType().Name}");
        }
    }
}
