using System.CommandLine;
using Drydock.Detection;
using Drydock.Detection.Configuration;
using Drydock.Cli.Infrastructure;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock rules</c>: lists the detection rules in force (built-in and user rules).</summary>
internal static class RulesCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("rules", "List the detection rules: id, category, type, severity and description.");
        var config = ProjectContext.PolicyOption;
        var rules = new Option<string[]>("--rules") { Description = "Extra YAML rule files.", AllowMultipleArgumentsPerToken = true };
        var categories = new Option<string?>("--categories") { Description = "Only these categories, comma-separated." };
        command.Options.Add(config);
        command.Options.Add(rules);
        command.Options.Add(categories);
        command.SetAction((parse, _) =>
        {
            try
            {
                var filter = RuleSet.ParseCategories(parse.GetValue(categories), out var error);
                if (error is not null)
                {
                    stderr.WriteLine($"drydock rules: {error}");
                    return Task.FromResult(ExitCodes.UsageOrInput);
                }

                foreach (var rule in ProjectContext.Load(parse).Rules(parse.GetValue(rules) ?? []).Only(filter).Catalogue)
                {
                    stdout.WriteLine($"{rule.Id,-12} {rule.Category,-11} {rule.Type,-32} {rule.Severity.Name(),-9} {rule.Description}");
                }

                return Task.FromResult(ExitCodes.Ok);
            }
            catch (ConfigFileException e)
            {
                stderr.WriteLine($"drydock rules: {e.Message}");
                return Task.FromResult(ExitCodes.UsageOrInput);
            }
        });
        return command;
    }
}
