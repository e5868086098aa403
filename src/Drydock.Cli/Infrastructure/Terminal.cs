namespace Drydock.Cli.Infrastructure;

/// <summary>What the attached terminal supports.</summary>
internal static class Terminal
{
    /// <summary>True when progress may be drawn on stderr: a terminal, not CI, not a dumb terminal.</summary>
    public static bool ProgressAllowed =>
        !Console.IsErrorRedirected &&
        string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")) &&
        Environment.GetEnvironmentVariable("TERM") != "dumb";

    /// <summary>True when colour may be written to stdout (a terminal and <c>NO_COLOR</c> unset).</summary>
    public static bool ColorAllowed =>
        !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
}
