using System.CommandLine;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock model register|list</c>: model versions, tied to the datasets that made them.</summary>
internal static class ModelCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("model", "Register model versions (signed, tied to their datasets), list them, and scan model files before loading them.");

        var register = new Command("register", "Register a model file or folder trained on registered datasets; signs the record (PATH.dsse.json).");
        var path = new Argument<string>("path") { Description = "A model file or folder (adapter weights, config, tokenizer…)." };
        var name = new Option<string?>("--name") { Description = "A name (default: the file or folder name)." };
        var datasets = new Option<string[]>("--dataset") { Description = "A dataset it was trained on (repeat for several).", Required = true, AllowMultipleArgumentsPerToken = true };
        var baseModel = new Option<string?>("--base-model") { Description = "The base model (name and pinned hash)." };
        register.Arguments.Add(path);
        register.Options.Add(name);
        register.Options.Add(datasets);
        register.Options.Add(baseModel);
        ProjectContext.AddOptions(register);
        register.SetAction((parse, _) => ProjectContext.Guard("model register", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var target = Path.GetFullPath(parse.GetValue(path)!);
            using var registry = context.OpenRegistry();
            var datasetIds = (parse.GetValue(datasets) ?? []).Select(d => registry.GetDataset(d).Id).ToList();
            var modelName = parse.GetValue(name) ?? Path.GetFileName(target.TrimEnd(Path.DirectorySeparatorChar));
            var (model, created, envelopePath, keyId) = ModelRegistration.Register(registry, new ModelRegistrationSettings(target, modelName, parse.GetValue(baseModel), datasetIds, ProjectContext.SigningKeyPath, Actor.Current));
            if (!created)
            {
                stdout.WriteLine($"{model.Id} already registered ({model.Name})");
                return ExitCodes.Ok;
            }

            stdout.WriteLine($"{model.Id} registered: {model.Name}, {model.Files.Count} files, sha256:{model.Digest}");
            stdout.WriteLine($"  trained on {string.Join(", ", model.Datasets.ToArray())}");
            stdout.WriteLine($"  signed by {keyId}: {envelopePath}");
            return ExitCodes.Ok;
        }));

        var list = new Command("list", "List registered model versions with their approval status.");
        ProjectContext.AddOptions(list);
        list.SetAction((parse, _) => ProjectContext.Guard("model list", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            var models = registry.ListModels();
            foreach (var m in models)
            {
                stdout.WriteLine($"{m.Id,-16} {m.Name,-28} {registry.Status("model", m.Id, context.Policy.RequiredApprovalRoles).State,-9} {m.RegisteredAt} {m.RegisteredBy}  datasets {string.Join(",", m.Datasets.ToArray())}");
            }

            if (models.Count == 0) stdout.WriteLine("(no models)");
            return ExitCodes.Ok;
        }));

        command.Subcommands.Add(register);
        command.Subcommands.Add(list);
        command.Subcommands.Add(SupplyChainCommand.CreateModelScan(stdout, stderr));
        return command;
    }
}
