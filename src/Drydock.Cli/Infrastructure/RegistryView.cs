using System.CommandLine;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// The shape of a verb that shows one registry entry (<c>lineage</c>, <c>dataset show</c>): an id argument, a
/// <c>--format</c> option and the project options, run with the project loaded and the registry open under the common
/// mapping of errors to exit codes.
/// </summary>
internal static class RegistryView
{
    /// <summary>A command NAME whose SHOW gets the project, the open registry, the id given and the format chosen.</summary>
    public static Command Create(string name, string description, string idDescription, string[] formats, string verb, TextWriter stderr,
        Func<ProjectContext, ProvenanceRegistry, string, string, int> show)
    {
        var command = new Command(name, description);
        var id = new Argument<string>("id") { Description = idDescription };
        var format = CommandOptions.Format(formats);
        command.Arguments.Add(id);
        command.Options.Add(format);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard(verb, stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            return show(context, registry, parse.GetValue(id)!, parse.GetValue(format)!);
        }));
        return command;
    }
}
