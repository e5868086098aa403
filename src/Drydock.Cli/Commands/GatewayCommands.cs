using System.CommandLine;
using System.Globalization;
using Drydock.Cli.Infrastructure;
using Drydock.Gateway;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Monitoring;
using Drydock.Gateway.Operations;
using Drydock.Gateway.State;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock serve</c> (the gateway) and <c>drydock serve-model</c> (the local ONNX model server).</summary>
internal static partial class GatewayCommands
{
    public static Command CreateServeModel(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("serve-model", "Serve an ONNX model from the reference trainer as an OpenAI-compatible endpoint (/v1/models, /v1/completions with echo and logprobs, /v1/chat/completions), for the gateway and external tools.");
        var path = new Argument<string>("path") { Description = "The model folder (model.onnx and model.json) or model.onnx." };
        var listen = new Option<string>("--listen") { Description = "Where to listen.", DefaultValueFactory = _ => "http://127.0.0.1:8000" };
        var name = new Option<string?>("--name") { Description = "The model's name in the API (default: the folder's name)." };
        command.Arguments.Add(path);
        command.Options.Add(listen);
        command.Options.Add(name);
        command.SetAction((parse, cancellationToken) => CommandErrors.Run("serve-model", stderr, async () =>
        {
            // The digest of the files as the registry computes it, hashed before loading, so answers name the artifact.
            var digest = Provenance.Registry.ModelDigest.Of(parse.GetValue(path)!).Digest;
            using var model = new Evaluation.Targets.OnnxTarget(parse.GetValue(path)!, seed: Environment.TickCount);
            await using var server = new Gateway.ModelServer.LocalModelServer(model, parse.GetValue(name) ?? model.Name, parse.GetValue(listen)!, digest);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            await stderr.WriteLineAsync($"drydock serve-model: {parse.GetValue(name) ?? model.Name} on {string.Join(", ", server.Urls.ToArray())}/v1 (context {model.Context} bytes, sha256:{digest[..12]})").ConfigureAwait(false);
            await server.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command CreateServe(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("serve", "Run the gateway: an OpenAI-compatible API in front of a model server, with keys, tiers, rate limits, input/output guards, canary tripwire, extraction monitoring and containment.");
        var upstream = new Option<string>("--upstream") { Description = "The model server's OpenAI-compatible base URL (http://127.0.0.1:8000/v1).", Required = true };
        var listen = new Option<string>("--listen") { Description = "Where to listen.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var window = new Option<int?>("--stream-window") { Description = "Characters held back while streaming so split values are caught (default 64, or gateway.stream-window)." };
        var audit = new Option<string>("--audit") { Description = "Folder of the request log (one JSONL file per day; text only as gateway.audit.text says).", DefaultValueFactory = _ => CommandOptions.RequestLogFolder };
        var redis = new Option<string?>("--redis") { Description = "Share rate limits, throttles and revocations with other instances through this Redis (host:port)." };
        foreach (var option in new Option[] { upstream, listen, window, audit, redis }) command.Options.Add(option);
        ProjectContext.AddOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            Uri? upstreamUri;
            GatewayOptions options;
            Detection.Engine.Detector detector;
            Semantic.SemanticInjectionJudge? judge;
            ProjectContext context;
            try
            {
                if (!Uri.TryCreate(parse.GetValue(upstream), UriKind.Absolute, out upstreamUri) || upstreamUri.Scheme is not ("http" or "https")) throw new GatewayConfigException($"--upstream '{parse.GetValue(upstream)}' is not an http(s) URL");
                if (parse.GetValue(window) < 0) throw new GatewayConfigException("--stream-window must be 0 or more");
                context = ProjectContext.Load(parse);
                _ = context.RegistryLocation; // the gateway serves a project: refused outside one
                options = new GatewayOptions
                {
                    Upstream = upstreamUri, AuditFolder = parse.GetValue(audit), Monitor = MonitorSettings.Read(context.File["monitor"]),
                    MonitorStateFolder = Path.Combine(context.Root ?? Directory.GetCurrentDirectory(), ProjectContext.StateFolderName, "monitor"),
                }.With(context.File["gateway"]);
                if (parse.GetValue(window) is { } w) options = options with { StreamWindow = w };
                detector = context.Rules().CreateDetector();
                // Loaded only when a tier asks for it; a missing or corrupt model file stops the start here.
                judge = options.Tiers.Values.Any(t => t.SemanticInjection) ? Semantic.SemanticInjectionJudge.Load() : null;
            }
            catch (Exception e) when (CommandErrors.Known(e))
            {
                return CommandErrors.Report("serve", stderr, e);
            }

            using var logs = new JsonLineLogs(stderr);
            IGatewayState state;
            GatewayOperations operations;
            ApiKeyStore keys;
            string registryShown; // where the registry is, without a password a URL or connection string may hold
            try
            {
                // The key file must be what the audit log says it is before a single key is accepted (a file put back
                // from a copy made before a revocation is refused here; while running, the store refuses such a file itself).
                keys = ApiKeyStore.Open(ProjectContext.KeysFolder, new ApiKeyStoreOptions { Journal = new RegistryApiKeyJournal(context.OpenRegistry, "gateway"), Log = logs.CreateLogger("Drydock.Gateway.Keys") });
                using (var registry = context.OpenRegistry())
                {
                    registryShown = registry.Database.Display;
                    // A registry (or the whole .drydock folder) put back from an older copy would serve what was contained since.
                    if (Provenance.Audit.AuditWitness.Advance(registry.Database, DateTimeOffset.UtcNow) is { } rolledBack)
                    {
                        throw new Provenance.Registry.RegistryException($"refused: the registry at {registry.Database.Display} fails drydock audit verify ({rolledBack}); the gateway does not serve from it");
                    }

                    var problems = keys.Compare(registry.ApiKeyEvents());
                    if (problems.Count > 0) throw new ApiKeyStoreException($"the key store does not match the audit log ('drydock audit verify' lists it): {string.Join("; ", problems)}");
                }

                state = parse.GetValue(redis) is { } r ? await RedisGatewayState.ConnectAsync(r).ConfigureAwait(false) : new LocalGatewayState();
                operations = new GatewayOperations(context.OpenRegistry(), options.Aliases, context.Approval, TimeSpan.FromSeconds(2), options.TripwireRequired ? ProjectContext.StateFolder : null);
            }
            catch (Exception e) when (CommandErrors.Known(e))
            {
                return CommandErrors.Report("serve", stderr, e);
            }

            var services = new GatewayServices(keys, detector) { State = state, Operations = operations, Logs = logs, InjectionJudge = judge, OpenRegistry = context.OpenRegistry };
            await using var host = await GatewayHost.StartAsync(options, services, parse.GetValue(listen)!, cancellationToken).ConfigureAwait(false);
            await stderr.WriteLineAsync($"drydock serve: listening on {string.Join(", ", host.Urls.ToArray())}, upstream {upstreamUri}, tiers {string.Join(", ", options.Tiers.Keys.ToArray())}, state {(parse.GetValue(redis) is null ? "in process" : "redis")}, registry {registryShown}").ConfigureAwait(false);
            if (!options.Monitor.Signals) await stderr.WriteLineAsync("drydock serve: monitor.signals is false: no signal log is kept, so drydock monitor, its alerts, the dashboard and the registry's summaries get nothing from this gateway").ConfigureAwait(false);
            try
            {
                await host.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
