using System.CommandLine;
using System.Globalization;
using Drydock.Cli.Infrastructure;
using Drydock.Gateway;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Monitoring;
using Drydock.Gateway.Operations;
using Drydock.Gateway.State;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock serve</c> and <c>drydock keys create|list|revoke|rotate</c>.</summary>
internal static class GatewayCommands
{
    /// <summary>Where the gateway's request log lives by default.</summary>
    public static string RequestLogFolder => Path.Combine(ProjectContext.StateFolder, "gateway", "requests");

    public static Command CreateServeModel(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("serve-model", "Serve an ONNX model from the reference trainer as an OpenAI-compatible endpoint (/v1/models, /v1/completions with echo and logprobs, /v1/chat/completions), for the gateway and external tools.");
        var path = new Argument<string>("path") { Description = "The model folder (model.onnx and model.json) or model.onnx." };
        var listen = new Option<string>("--listen") { Description = "Where to listen.", DefaultValueFactory = _ => "http://127.0.0.1:8000" };
        var name = new Option<string?>("--name") { Description = "The model's name in the API (default: the folder's name)." };
        command.Arguments.Add(path);
        command.Options.Add(listen);
        command.Options.Add(name);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                // The digest of the files as the registry computes it, hashed before loading, so answers name the artifact.
                var digest = Provenance.Registry.ModelDigest.Of(parse.GetValue(path)!).Digest;
                using var model = new Evaluation.Targets.OnnxTarget(parse.GetValue(path)!, seed: Environment.TickCount);
                await using var server = new Gateway.ModelServer.LocalModelServer(model, parse.GetValue(name) ?? model.Name, parse.GetValue(listen)!, digest);
                await server.StartAsync(cancellationToken).ConfigureAwait(false);
                await stderr.WriteLineAsync($"drydock serve-model: {parse.GetValue(name) ?? model.Name} on {string.Join(", ", server.Urls.ToArray())}/v1 (context {model.Context} bytes, sha256:{digest[..12]})").ConfigureAwait(false);
                await server.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                await stderr.WriteLineAsync($"drydock serve-model: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }
        });
        return command;
    }

    public static Command CreateServe(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("serve", "Run the gateway: an OpenAI-compatible API in front of a model server, with keys, tiers, rate limits, input/output guards, canary tripwire, extraction monitoring and containment.");
        var upstream = new Option<string>("--upstream") { Description = "The model server's OpenAI-compatible base URL (http://127.0.0.1:8000/v1).", Required = true };
        var listen = new Option<string>("--listen") { Description = "Where to listen.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var window = new Option<int?>("--stream-window") { Description = "Characters held back while streaming so split values are caught (default 64, or gateway.stream-window)." };
        var audit = new Option<string>("--audit") { Description = "Folder of the request log (one JSONL file per day; text only as gateway.audit.text says).", DefaultValueFactory = _ => RequestLogFolder };
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
                options = new GatewayOptions { Upstream = upstreamUri, AuditFolder = parse.GetValue(audit), Monitor = MonitorSettings.Read(context.File["monitor"]) }.With(context.File["gateway"]);
                if (parse.GetValue(window) is { } w) options = options with { StreamWindow = w };
                detector = context.Rules().CreateDetector();
                // Loaded only when a tier asks for it; a missing or corrupt model file stops the start here.
                judge = options.Tiers.Values.Any(t => t.SemanticInjection) ? Semantic.SemanticInjectionJudge.Load() : null;
            }
            catch (Exception e) when (e is GatewayConfigException or Detection.Configuration.ConfigFileException or NoProjectException or Semantic.SemanticModelException)
            {
                await stderr.WriteLineAsync($"drydock serve: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }

            using var logs = new JsonLineLogs(stderr);
            IGatewayState state;
            GatewayOperations operations;
            ApiKeyStore keys;
            try
            {
                // The key file must be what the audit log says it is before a single key is accepted (a file put back
                // from a copy made before a revocation is refused here; while running, the store refuses such a file itself).
                keys = ApiKeyStore.Open(ProjectContext.KeysFolder, new ApiKeyStoreOptions { Journal = new RegistryApiKeyJournal(context.OpenRegistry, "gateway"), Log = logs.CreateLogger("Drydock.Gateway.Keys") });
                using (var registry = context.OpenRegistry())
                {
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
            catch (Exception e) when (e is GatewayConfigException or Provenance.Registry.RegistryException or System.Data.Common.DbException or IOException or UnauthorizedAccessException or Provenance.KeyRingException)
            {
                await stderr.WriteLineAsync($"drydock serve: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInput;
            }

            var services = new GatewayServices(keys, detector) { State = state, Operations = operations, Logs = logs, InjectionJudge = judge, OpenRegistry = context.OpenRegistry };
            await using var host = await GatewayHost.StartAsync(options, services, parse.GetValue(listen)!, cancellationToken).ConfigureAwait(false);
            await stderr.WriteLineAsync($"drydock serve: listening on {string.Join(", ", host.Urls.ToArray())}, upstream {upstreamUri}, tiers {string.Join(", ", options.Tiers.Keys.ToArray())}, state {(parse.GetValue(redis) is null ? "in process" : "redis")}, registry {context.RegistryLocation}").ConfigureAwait(false);
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

    public static Command CreateKeys(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("keys", "Gateway API keys: create (printed once), list, revoke, rotate, seal. Only a keyed hash is stored; every change is an audit entry; the key file carries an integrity code.");

        var create = new Command("create", "Create a key and print it (only the key on stdout, so scripts can capture it).");
        var name = new Option<string>("--name") { Description = "Who or what uses it.", Required = true };
        var tier = new Option<string>("--tier") { Description = "Its tier (drydock.yaml gateway.tiers, or internal/public/default).", DefaultValueFactory = _ => "default" };
        var models = new Option<string?>("--models") { Description = "Only these models (comma-separated; default: the tier's)." };
        var expires = new Option<string?>("--expires") { Description = "Lifetime: 30d, 12h or 90m." };
        var admin = new Option<bool>("--admin") { Description = "An administrator key: reaches the admin API (containment, key revocation) and not the models." };
        foreach (var option in new Option[] { name, tier, models, expires, admin }) create.Options.Add(option);
        ProjectContext.AddOptions(create);
        create.SetAction((parse, _) => ProjectContext.Guard("keys create", stderr, () =>
        {
            var lifetime = parse.GetValue(expires) is { } e ? Lifetime(e) : (TimeSpan?)null;
            if (parse.GetValue(tier) == GatewayOptions.AdminTier && !parse.GetValue(admin)) throw new ArgumentException("--tier admin: use --admin for an administrator key");
            if (parse.GetValue(admin) && parse.GetResult(tier) is { Implicit: false }) throw new ArgumentException("--admin with --tier: an administrator key has no model tier; leave --tier out");
            var only = (parse.GetValue(models) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parse.GetValue(models) is not null && only.Length == 0) throw new ArgumentException("--models names no model; leave it out to allow the tier's models");
            var context = ProjectContext.Load(parse);
            var tiers = GatewayOptions.TierNames(context.File["gateway"]);
            if (!parse.GetValue(admin) && !tiers.Contains(parse.GetValue(tier)!))
            {
                throw new ArgumentException($"--tier '{Printable(parse.GetValue(tier)!)}': no such tier; tiers: {string.Join(", ", tiers.Order(StringComparer.Ordinal))} (drydock.yaml gateway.tiers)");
            }

            var (key, record) = Store(parse, context).Create(parse.GetValue(name)!, parse.GetValue(admin) ? GatewayOptions.AdminTier : parse.GetValue(tier)!, only, lifetime);
            stdout.WriteLine(key);
            stderr.WriteLine($"drydock keys: created {record.Id} ({record.Name}, tier {record.Tier}{(record.Expires is null ? "" : ", expires " + record.Expires)}); it is shown only now");
            return ExitCodes.Ok;
        }));

        var list = new Command("list", "List keys (ids, names, tiers, state; never the keys).");
        list.SetAction((_, _) => ProjectContext.Guard("keys list", stderr, () =>
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var k in KeyStoreOwner.Checked(ApiKeyStore.Open(ProjectContext.KeysFolder), () => ProjectContext.Load(policyOption: null)).List())
            {
                var state = k.Revoked is not null ? "revoked " + k.Revoked : k.Active(now) ? "active" : "expired";
                stdout.WriteLine($"{k.Id}  {k.Name,-20} {k.Tier,-10} {state,-28} created {k.Created}{(k.Expires is null ? "" : " expires " + k.Expires)}{(k.Models.Count > 0 ? " models " + string.Join(",", k.Models) : "")}");
            }

            return ExitCodes.Ok;
        }));

        var id = new Argument<string>("id") { Description = "The key id (ddk_<id>_…)." };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded in the audit log)." };
        var revokeRedis = RedisOption();
        var revoke = new Command("revoke", "Revoke a key: gateways sharing this key folder refuse it within a second; with --redis, every gateway using that Redis at once.");
        revoke.Arguments.Add(id);
        revoke.Options.Add(reason);
        revoke.Options.Add(revokeRedis);
        ProjectContext.AddOptions(revoke);
        revoke.SetAction((parse, _) => ProjectContext.Guard("keys revoke", stderr, () =>
        {
            var keyId = KeyId(parse.GetValue(id)!);
            if (!Store(parse, ProjectContext.LoadForEmergency(parse, "keys revoke")).Revoke(keyId, parse.GetValue(reason))) throw new ArgumentException($"no key {Printable(keyId)}");
            PublishRevocation(parse.GetValue(revokeRedis), keyId);
            stdout.WriteLine($"revoked {keyId}");
            return ExitCodes.Ok;
        }));

        var rotateId = new Argument<string>("id") { Description = "The key id." };
        var rotateRedis = RedisOption();
        var rotate = new Command("rotate", "Revoke a key and print its replacement (same name, tier, models and lifetime), in one change of the key file.");
        rotate.Arguments.Add(rotateId);
        rotate.Options.Add(rotateRedis);
        ProjectContext.AddOptions(rotate);
        rotate.SetAction((parse, _) => ProjectContext.Guard("keys rotate", stderr, () =>
        {
            var keyId = KeyId(parse.GetValue(rotateId)!);
            var created = Store(parse).Rotate(keyId) ?? throw new ArgumentException($"no key {Printable(keyId)}");
            PublishRevocation(parse.GetValue(rotateRedis), keyId);
            stdout.WriteLine(created.Key);
            stderr.WriteLine($"drydock keys: {parse.GetValue(rotateId)} revoked, replaced by {created.Record.Id}");
            return ExitCodes.Ok;
        }));

        var seal = new Command("seal", "Accept a key file written by a drydock before key files had an integrity code: each key is recorded in the audit log and the file gets its code. Check 'keys list' of an older drydock first: whatever the file says is accepted.");
        ProjectContext.AddOptions(seal);
        seal.SetAction((parse, _) => ProjectContext.Guard("keys seal", stderr, () =>
        {
            var context = ProjectContext.Load(parse);
            var sealedKeys = ApiKeyStore.Seal(ProjectContext.KeysFolder, new ApiKeyStoreOptions { Journal = new RegistryApiKeyJournal(context.OpenRegistry, Provenance.Actor.Current) });
            stdout.WriteLine($"sealed {sealedKeys.Count} keys ({sealedKeys.Count(k => k.Revoked is not null)} revoked): {string.Join(", ", sealedKeys.Select(k => k.Id))}");
            return ExitCodes.Ok;
        }));

        foreach (var sub in new[] { create, list, revoke, rotate, seal }) command.Subcommands.Add(sub);
        return command;
    }

    /// <summary>The key store, each change recorded in the registry's audit log (before it is written) by the current user.</summary>
    internal static ApiKeyStore Store(ParseResult parse, ProjectContext? context = null)
    {
        context ??= ProjectContext.Load(parse);
        return KeyStoreOwner.Checked(ApiKeyStore.Open(ProjectContext.KeysFolder, new ApiKeyStoreOptions { Journal = new RegistryApiKeyJournal(context.OpenRegistry, Provenance.Actor.Current) }), context);
    }

    /// <summary>The Redis that gateways share revocations through (as given to <c>serve --redis</c>).</summary>
    internal static Option<string?> RedisOption() => new("--redis") { Description = "Also revoke in this Redis (host:port), which gateways started with --redis check on every request." };

    /// <summary>Tells gateways sharing <paramref name="redis"/> that <paramref name="id"/> is revoked; fails loudly when it cannot.</summary>
    internal static void PublishRevocation(string? redis, string id)
    {
        if (redis is null) return;
        try
        {
            var state = RedisGatewayState.ConnectAsync(redis).GetAwaiter().GetResult();
            try
            {
                state.RevokeAsync(id).AsTask().GetAwaiter().GetResult();
            }
            finally
            {
                state.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (e is GatewayConfigException or StackExchange.Redis.RedisException)
        {
            throw new IOException($"key {id} is revoked in the key file (gateways sharing it refuse it within a second), but NOT in Redis: {e.Message}", e);
        }
    }

    private static TimeSpan Lifetime(string text)
    {
        if (text.Length >= 2 && int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            TimeSpan? lifetime = text[^1] switch
            {
                'd' when n <= ApiKeyStore.MaxLifetime.TotalDays => TimeSpan.FromDays(n),
                'h' when n <= ApiKeyStore.MaxLifetime.TotalHours => TimeSpan.FromHours(n),
                'm' when n <= ApiKeyStore.MaxLifetime.TotalMinutes => TimeSpan.FromMinutes(n),
                'd' or 'h' or 'm' => throw new ArgumentException($"--expires '{Printable(text)}': at most {ApiKeyStore.MaxLifetime.TotalDays:0}d (about ten years)"),
                _ => null,
            };
            if (lifetime is { } l) return l;
        }

        throw new ArgumentException($"--expires '{Printable(text)}': use a number followed by d, h or m (30d)");
    }

    // A value echoed in a message: control characters shown escaped, so a name cannot forge lines on the terminal.
    // A key id, or the whole key (ddk_<id>_<secret>) from which the id is taken.
    private static string KeyId(string given) =>
        given.StartsWith("ddk_", StringComparison.Ordinal) ? given[4..].Split('_')[0] : given;

    private static string Printable(string text) =>
        string.Concat(text.Take(80).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
