namespace Drydock.Cli.Infrastructure;

/// <summary>Exit codes shared by every verb (see DESIGN.md).</summary>
internal static class ExitCodes
{
    /// <summary>Everything fine, or findings below the failure threshold.</summary>
    public const int Ok = 0;

    /// <summary>Findings at or above the threshold, or a failed gate.</summary>
    public const int Findings = 1;

    /// <summary>Usage error or bad input (the message names file and line).</summary>
    public const int UsageOrInput = 2;
}
