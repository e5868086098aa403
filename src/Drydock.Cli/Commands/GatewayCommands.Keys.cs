using System.CommandLine;
using System.Globalization;
using Drydock.Cli.Infrastructure;
using Drydock.Gateway;
using Drydock.Gateway.Keys;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock keys create|list|revoke|rotate|seal</c>: the gateway's API keys.</summary>
internal static partial class GatewayCommands
{
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

            var (key, record) = GatewayKeys.Store(parse, context).Create(parse.GetValue(name)!, parse.GetValue(admin) ? GatewayOptions.AdminTier : parse.GetValue(tier)!, only, lifetime);
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
        var revokeRedis = CommandOptions.Redis();
        var revoke = new Command("revoke", "Revoke a key: gateways sharing this key folder refuse it within a second; with --redis, every gateway using that Redis at once.");
        revoke.Arguments.Add(id);
        revoke.Options.Add(reason);
        revoke.Options.Add(revokeRedis);
        ProjectContext.AddOptions(revoke);
        revoke.SetAction((parse, _) => ProjectContext.Guard("keys revoke", stderr, () =>
        {
            var keyId = KeyId(parse.GetValue(id)!);
            if (!GatewayKeys.Store(parse, ProjectContext.LoadForEmergency(parse, "keys revoke")).Revoke(keyId, parse.GetValue(reason))) throw new ArgumentException($"no key {Printable(keyId)}");
            GatewayKeys.PublishRevocation(parse.GetValue(revokeRedis), keyId);
            stdout.WriteLine($"revoked {keyId}");
            return ExitCodes.Ok;
        }));

        var rotateId = new Argument<string>("id") { Description = "The key id." };
        var rotateRedis = CommandOptions.Redis();
        var rotate = new Command("rotate", "Revoke a key and print its replacement (same name, tier, models and lifetime), in one change of the key file.");
        rotate.Arguments.Add(rotateId);
        rotate.Options.Add(rotateRedis);
        ProjectContext.AddOptions(rotate);
        rotate.SetAction((parse, _) => ProjectContext.Guard("keys rotate", stderr, () =>
        {
            var keyId = KeyId(parse.GetValue(rotateId)!);
            var created = GatewayKeys.Store(parse).Rotate(keyId) ?? throw new ArgumentException($"no key {Printable(keyId)}");
            GatewayKeys.PublishRevocation(parse.GetValue(rotateRedis), keyId);
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
