using System.CommandLine;
using Drydock.Cli.Infrastructure;
using Drydock.Curation.Policy;
using Drydock.Datasets.Output;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock init</c>: writes a commented starter drydock.yaml.</summary>
internal static class InitCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("init", "Write a commented starter drydock.yaml (every setting at its default).");
        var path = new Option<string>("--output", "-o") { Description = "Where to write it.", DefaultValueFactory = _ => RuleSet.DefaultConfig };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file." };
        command.Options.Add(path);
        command.Options.Add(force);
        command.SetAction((parse, _) =>
        {
            var target = parse.GetValue(path)!;
            if (File.Exists(target) && !parse.GetValue(force))
            {
                stderr.WriteLine($"drydock init: {target} already exists (use --force to overwrite)");
                return Task.FromResult(ExitCodes.UsageOrInput);
            }

            using var file = new AtomicFile(target);
            file.Stream.Write(System.Text.Encoding.UTF8.GetBytes(StarterPolicy.Text));
            file.Commit();
            stdout.WriteLine($"wrote {target}");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
