using System.CommandLine;

namespace Drydock.Cli.Infrastructure;

/// <summary>The options several verbs share, defined once.</summary>
internal static class CommandOptions
{
    /// <summary>--format, accepting only <paramref name="formats"/> (the first is the default).</summary>
    public static Option<string> Format(params string[] formats)
    {
        var option = new Option<string>("--format") { Description = $"Output format: {string.Join("|", formats)}.", DefaultValueFactory = _ => formats[0] };
        option.AcceptOnlyFromAmong(formats);
        return option;
    }

    /// <summary>The Redis that gateways share revocations through (as given to <c>serve --redis</c>).</summary>
    public static Option<string?> Redis() => new("--redis") { Description = "Also revoke in this Redis (host:port), which gateways started with --redis check on every request." };

    /// <summary>Where the gateway's request log lives by default.</summary>
    public static string RequestLogFolder => Path.Combine(ProjectContext.StateFolder, "gateway", "requests");
}
