namespace Drydock.Detection.Configuration;

/// <summary>A configuration file that cannot be used as written: the message names file, line and field (exit code 2).</summary>
public class ConfigFileException(string file, long line, string field, string message)
    : Exception($"{file}:{line}: {field}: {message}")
{
    /// <summary>The file.</summary>
    public string File { get; } = file;

    /// <summary>1-based line of the offending node (0 when the file itself is at fault).</summary>
    public long Line { get; } = line;

    /// <summary>The field at fault as a path, such as <c>gateway.tiers.public.output</c> or <c>rules[2].pattern</c>.</summary>
    public string Field { get; } = field;
}
