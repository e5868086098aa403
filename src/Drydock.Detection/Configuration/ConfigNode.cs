using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Drydock.Detection.Configuration;

/// <summary>
/// One checked node of a configuration file: where it is (file, line, field path) and typed access to its values.
/// The values already passed their shape's checks; section owners add only what a shape cannot say (such as a
/// reserved name) and report it with <see cref="Error(string)"/>.
/// </summary>
public sealed class ConfigNode
{
    internal ConfigNode(string file, string field, YamlNode node, ConfigShape shape, long? keyLine = null)
    {
        File = file;
        Field = field;
        Node = node;
        Shape = shape;
        Line = keyLine ?? node.Start.Line;
    }

    /// <summary>The file.</summary>
    public string File { get; }

    /// <summary>The field path (<c>gateway.tiers.public</c>, <c>sources[1]</c>); empty for the document.</summary>
    public string Field { get; }

    /// <summary>1-based line: of its key for a mapping's entry (a nested mapping starts on the next line), else of the node.</summary>
    public long Line { get; }

    /// <summary>The declared shape.</summary>
    public ConfigShape Shape { get; }

    internal YamlNode Node { get; }

    /// <summary>The scalar's text (null for a mapping or list).</summary>
    public string? Value => (Node as YamlScalarNode)?.Value;

    /// <summary>A mapping's entries, in file order.</summary>
    public IReadOnlyList<(string Key, ConfigNode Value)> Entries => Node is YamlMappingNode map && Shape is MapShape shape
        ? [.. map.Children.Select(kv => (((YamlScalarNode)kv.Key).Value!, new ConfigNode(File, Join(Field, ((YamlScalarNode)kv.Key).Value!), kv.Value, shape.Fields.GetValueOrDefault(((YamlScalarNode)kv.Key).Value!) ?? shape.AnyKey!, kv.Key.Start.Line)))]
        : [];

    /// <summary>A list's items.</summary>
    public IReadOnlyList<ConfigNode> Items => Node is YamlSequenceNode seq && Shape is ListShape list
        ? [.. seq.Children.Select((c, i) => new ConfigNode(File, $"{Field}[{i}]", c, list.Item))]
        : [];

    /// <summary>True when the mapping has <paramref name="key"/>.</summary>
    public bool Has(string key) => Node is YamlMappingNode map && map.Children.ContainsKey(new YamlScalarNode(key));

    /// <summary>The child at <paramref name="key"/>, or null when absent.</summary>
    public ConfigNode? this[string key]
    {
        get
        {
            if (Node is not YamlMappingNode map || Shape is not MapShape shape) return null;
            foreach (var (keyNode, child) in map.Children)
            {
                if (keyNode is YamlScalarNode { Value: { } name } && name == key)
                {
                    return new ConfigNode(File, Join(Field, key), child, shape.Fields.GetValueOrDefault(key) ?? shape.AnyKey ?? throw new ArgumentException($"{key} is not declared", nameof(key)), keyNode.Start.Line);
                }
            }

            return null;
        }
    }

    /// <summary>The text at <paramref name="key"/>, or null.</summary>
    public string? Text(string key) => this[key]?.Value;

    /// <summary>The integer at <paramref name="key"/>, or null (it fits an int: checked against the shape's bounds).</summary>
    public int? Integer(string key) => this[key]?.Value is { } s ? checked((int)long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)) : null;

    /// <summary>The number at <paramref name="key"/>, or null; for a number-or-word value, null also for a word.</summary>
    public double? Number(string key) => this[key]?.Value is { } s && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The boolean at <paramref name="key"/>, or null.</summary>
    public bool? Boolean(string key) => this[key]?.Value is { } s ? ConfigReader.ParseBoolean(s) : null;

    /// <summary>The texts of the list at <paramref name="key"/>, or null when absent.</summary>
    public IReadOnlyList<string>? Texts(string key) => this[key] is { } list ? [.. list.Items.Select(i => i.Value ?? "")] : null;

    /// <summary>An error at this node.</summary>
    public ConfigFileException Error(string message) => new(File, Line, Field.Length == 0 ? "yaml" : Field, message);

    /// <summary>An error at the child <paramref name="key"/> (at this node when the child is absent).</summary>
    public ConfigFileException Error(string key, string message) => new(File, this[key]?.Line ?? Line, Join(Field, key), message);

    internal static string Join(string field, string key) => field.Length == 0 ? key : $"{field}.{key}";
}
