using System.Globalization;

namespace Drydock.Detection.Configuration;

/// <summary>What a scalar value must be.</summary>
public enum ValueKind
{
    /// <summary>Any single value (a string).</summary>
    Text,
    /// <summary>A whole number.</summary>
    Integer,
    /// <summary>A finite number.</summary>
    Number,
    /// <summary><c>true</c> or <c>false</c> (<c>yes</c>/<c>no</c>, <c>on</c>/<c>off</c> too).</summary>
    Boolean,
    /// <summary>One of a fixed list of words.</summary>
    Choice,
    /// <summary>A number, or one of a fixed list of words (such as <c>off</c>).</summary>
    NumberOrChoice,
}

/// <summary>
/// The declared shape of a YAML configuration file or of one of its sections: mappings with their known keys,
/// lists, and scalars of a kind. <see cref="ConfigReader"/> checks a whole document against it once, so an unknown
/// key or a value of the wrong shape at any level is an error naming file, line and field.
/// </summary>
public abstract record ConfigShape
{
    /// <summary>A mapping with exactly these keys (each optional unless listed in <see cref="MapShape.Required"/>).</summary>
    public static MapShape Map(params (string Key, ConfigShape Shape)[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return new MapShape(fields.ToDictionary(f => f.Key, f => f.Shape, StringComparer.Ordinal), null, []);
    }

    /// <summary>A mapping whose keys are names chosen by the user (tiers, aliases, types), each value of one shape.</summary>
    public static MapShape MapOf(ConfigShape value) => new(new Dictionary<string, ConfigShape>(StringComparer.Ordinal), value, []);

    /// <summary>A list of items of one shape.</summary>
    public static ListShape ListOf(ConfigShape item) => new(item);

    /// <summary>Any single value.</summary>
    public static ValueShape Text { get; } = new(ValueKind.Text, null, null, []);

    /// <summary><c>true</c> or <c>false</c>.</summary>
    public static ValueShape Boolean { get; } = new(ValueKind.Boolean, null, null, []);

    /// <summary>A whole number of at least <paramref name="min"/> (and at most <paramref name="max"/>).</summary>
    public static ValueShape Integer(long min, long max = int.MaxValue) => new(ValueKind.Integer, min, max, []);

    /// <summary>A finite number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static ValueShape Number(double? min, double? max = null) => new(ValueKind.Number, min, max, []);

    /// <summary>One of these words.</summary>
    public static ValueShape OneOf(params string[] choices) => new(ValueKind.Choice, null, null, choices);

    /// <summary>A number of at least <paramref name="min"/>, or one of these words.</summary>
    public static ValueShape NumberOr(double min, params string[] words) => new(ValueKind.NumberOrChoice, min, null, words);
}

/// <summary>A mapping: its known keys, or any key with values of <see cref="AnyKey"/>; keys in <see cref="Required"/> must be present.</summary>
public sealed record MapShape(IReadOnlyDictionary<string, ConfigShape> Fields, ConfigShape? AnyKey, IReadOnlyList<string> Required) : ConfigShape
{
    /// <summary>The same mapping with these keys required.</summary>
    public MapShape Requires(params string[] keys) => this with { Required = keys };

    /// <summary>The same mapping with more keys (for assembling a file from the sections of several owners).</summary>
    public MapShape With(IEnumerable<KeyValuePair<string, ConfigShape>> more)
    {
        ArgumentNullException.ThrowIfNull(more);
        var fields = new Dictionary<string, ConfigShape>(Fields, StringComparer.Ordinal);
        foreach (var (key, shape) in more)
        {
            if (!fields.TryAdd(key, shape)) throw new ArgumentException($"key '{key}' is declared twice", nameof(more));
        }

        return this with { Fields = fields };
    }
}

/// <summary>A list whose items have one shape.</summary>
public sealed record ListShape(ConfigShape Item) : ConfigShape;

/// <summary>A single value: its kind, bounds for numbers, the accepted words for choices.</summary>
public sealed record ValueShape(ValueKind Kind, double? Min, double? Max, IReadOnlyList<string> Choices) : ConfigShape
{
    /// <summary>Why <paramref name="text"/> is not accepted, or null when it is.</summary>
    public string? Check(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        switch (Kind)
        {
            case ValueKind.Text:
                return null;
            case ValueKind.Boolean:
                return ConfigReader.ParseBoolean(text) is null ? $"'{text}' must be true or false" : null;
            case ValueKind.Choice:
                return Choices.Contains(text) ? null : $"'{text}' is not one of {string.Join(", ", Choices)}";
            case ValueKind.NumberOrChoice when Choices.Contains(text):
                return null;
            case ValueKind.Integer:
                return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) && InRange(whole) ? null : $"'{text}' must be {Describe()}";
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) && InRange(n) ? null : $"'{text}' must be {Describe()}";
        }
    }

    private bool InRange(double value) => (Min is not { } min || value >= min) && (Max is not { } max || value <= max);

    private string Describe()
    {
        var what = Kind == ValueKind.Integer ? "an integer" : "a number";
        var range = (Min, Max) switch
        {
            ({ } min, { } max) => $" from {F(min)} to {F(max)}",
            ({ } min, null) => $" of at least {F(min)}",
            (null, { } max) => $" of at most {F(max)}",
            _ => "",
        };
        return what + range + (Kind == ValueKind.NumberOrChoice ? $", or {string.Join(", ", Choices)}" : "");
    }

    private static string F(double v) => v.ToString(CultureInfo.InvariantCulture);
}
