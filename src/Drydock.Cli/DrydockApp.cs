using System.CommandLine;
using Drydock.Cli.Commands;
using Drydock.Cli.Infrastructure;

namespace Drydock.Cli;

/// <summary>The <c>drydock</c> command: one verb per lifecycle step.</summary>
internal static class DrydockApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var root = Build(stdout, stderr);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await stderr.WriteLineAsync($"drydock: {error.Message}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'drydock --help' (or 'drydock <verb> --help') for usage.").ConfigureAwait(false);
            return ExitCodes.UsageOrInput;
        }

        // Access control: the one check of every verb against the role table (AccessControl.Table), before it runs.
        if (AccessControl.Check(parsed, args, stderr) is { } refused) return refused;

        // A token from the caller (Program's signal handling) replaces System.CommandLine's own handling of signals.
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = cancellationToken.CanBeCanceled ? null : TimeSpan.FromSeconds(2) };
        return await parsed.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The command tree: every verb, each with --actor (see <see cref="AccessControl"/>).</summary>
    public static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Drydock: security toolkit for fine-tuning language models (data, training, evaluation, serving).");
        root.Subcommands.Add(ScanCommand.Create(stdout, stderr));
        root.Subcommands.Add(RulesCommand.Create(stdout, stderr));
        root.Subcommands.Add(CleanCommand.Create(stdout, stderr));
        root.Subcommands.Add(InitCommand.Create(stdout, stderr));
        root.Subcommands.Add(AnalyzeCommand.Create(stdout, stderr));
        root.Subcommands.Add(ReviewCommand.Create(stdout, stderr));
        root.Subcommands.Add(DatasetCommand.Create(stdout, stderr));
        root.Subcommands.Add(ApproveCommand.Create(stdout, stderr));
        root.Subcommands.Add(ApproveCommand.CreateLineage(stdout, stderr));
        root.Subcommands.Add(ThreatModelCommand.Create(stdout, stderr));
        root.Subcommands.Add(ModelCommand.Create(stdout, stderr));
        root.Subcommands.Add(AuditCommand.Create(stdout, stderr));
        root.Subcommands.Add(VerifyCommand.Create(stdout, stderr));
        root.Subcommands.Add(VaultCommand.Create(stdout, stderr));
        root.Subcommands.Add(SupplyChainCommand.CreateCheck(stdout, stderr));
        root.Subcommands.Add(GatewayCommands.CreateServe(stdout, stderr));
        root.Subcommands.Add(GatewayCommands.CreateServeModel(stdout, stderr));
        root.Subcommands.Add(GatewayCommands.CreateKeys(stdout, stderr));
        root.Subcommands.Add(OperationsCommands.CreateDeploy(stdout, stderr));
        root.Subcommands.Add(OperationsCommands.CreateIncident(stdout, stderr));
        root.Subcommands.Add(OperationsCommands.CreateCanary(stdout, stderr));
        root.Subcommands.Add(EvalCommand.Create(stdout, stderr));
        root.Subcommands.Add(MonitorCommand.Create(stdout, stderr));
        root.Subcommands.Add(EvalCommand.CreateGate(stdout, stderr));
        root.Subcommands.Add(TrainCommand.Create(stdout, stderr));
        root.Subcommands.Add(Demo.DemoCommand.Create(stdout, stderr));
        root.Subcommands.Add(ActorCommand.Create(stdout, stderr));
        AccessControl.Attach(root);
        return root;
    }
}
