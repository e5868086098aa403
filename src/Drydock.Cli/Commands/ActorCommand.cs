using System.CommandLine;
using System.Globalization;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Commands;

/// <summary>
/// <c>drydock actor</c>: the people and services the CLI's access control knows. Each actor has an Ed25519 key pair (the
/// private key outside the project, beside the audit witness; the public key in the registry) and a grant: roles, an
/// expiry, a reason and who granted it, all in the hash-chained audit log.
/// </summary>
internal static class ActorCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("actor", "Actors for access control (drydock.yaml access: required): create with roles and an expiry, list, revoke; bootstrap the first admin.");
        command.Subcommands.Add(Grant("create", "Create an actor: an Ed25519 key pair (private key outside the project, owner-only) and a grant of roles with an expiry and a reason, recorded in the audit log.", bootstrap: false, stdout, stderr));
        command.Subcommands.Add(Grant("bootstrap", "Create the first admin actor; only while the registry has no actor at all (recorded in the audit log).", bootstrap: true, stdout, stderr));

        var keygen = new Command("keygen", "Generate your own actor key pair: the private key owner-only at --output, the public key beside it (FILE.pub) and on stdout; an admin grants it with 'actor create NAME --public-key FILE.pub', so no one else ever holds your private key.");
        var output = new Option<string>("--output", "-o") { Description = "Where to write the private key (never overwritten); the public key goes to FILE.pub.", Required = true };
        keygen.Options.Add(output);
        keygen.SetAction((parse, _) => ProjectContext.Guard("actor keygen", stderr, () =>
        {
            var path = Path.GetFullPath(parse.GetValue(output)!);
            using var key = Provenance.Signing.SigningKey.Create(path);
            stdout.WriteLine($"private key: {path} (owner-only; keep it to yourself and set DRYDOCK_ACTOR_KEY={path} when you act)");
            stdout.WriteLine($"public key: {path}.pub ({Provenance.Signing.SigningKey.IdOf(key.PublicKey)}); give this file to an admin: drydock actor create NAME --public-key {path}.pub ...");
            stdout.Write(File.ReadAllText(path + ".pub"));
            return ExitCodes.Ok;
        }));
        command.Subcommands.Add(keygen);

        var list = new Command("list", "List actors: name, roles, state (active, expired, revoked), expiry, key id, who granted and why.");
        ProjectContext.AddOptions(list);
        list.SetAction((parse, _) => ProjectContext.Guard("actor list", stderr, () =>
        {
            using var registry = ProjectContext.Load(parse).OpenRegistry();
            var now = DateTimeOffset.UtcNow;
            var actors = registry.Actors();
            foreach (var a in actors)
            {
                var revoked = a.RevokedAt is null ? "" : $"; revoked {a.RevokedAt} by {a.RevokedBy}: {a.RevokeReason}";
                stdout.WriteLine($"{a.Name,-20} {a.State(now),-8} {string.Join(",", a.Roles),-32} expires {a.Expires}  {a.KeyId}  granted by {a.GrantedBy}: {a.Reason}{revoked}");
            }

            if (actors.Count == 0) stdout.WriteLine("(no actors)");
            return ExitCodes.Ok;
        }));

        var revoke = new Command("revoke", "Revoke an actor's grant at once (recorded with the reason).");
        var name = new Argument<string>("name") { Description = "The actor." };
        var reason = new Option<string>("--reason") { Description = "Why (recorded).", Required = true };
        revoke.Arguments.Add(name);
        revoke.Options.Add(reason);
        ProjectContext.AddOptions(revoke);
        revoke.SetAction((parse, _) => ProjectContext.Guard("actor revoke", stderr, () =>
        {
            using var registry = ProjectContext.Load(parse).OpenRegistry();
            var grant = registry.RevokeActor(parse.GetValue(name)!, parse.GetValue(reason)!, Actor.Current);
            stdout.WriteLine($"{grant.Name}: revoked ({grant.RevokedAt} by {grant.RevokedBy})");
            return ExitCodes.Ok;
        }));

        command.Subcommands.Add(list);
        command.Subcommands.Add(revoke);
        return command;
    }

    private static Command Grant(string verb, string description, bool bootstrap, TextWriter stdout, TextWriter stderr)
    {
        var command = new Command(verb, description);
        var name = new Argument<string>("name") { Description = "The actor's name (lower-case letters, digits, '.', '_', '-')." };
        var roles = new Option<string[]>("--role") { Description = "A role to grant (repeat for more): " + string.Join(", ", ActorRoles.All) + ".", Required = !bootstrap, AllowMultipleArgumentsPerToken = false };
        roles.AcceptOnlyFromAmong([.. ActorRoles.All]);
        var expires = new Option<string>("--expires") { Description = "How long the grant lasts: 30d, 12h, 90m or 120s (at most 366d).", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why it is granted (recorded).", Required = true };
        var publicKey = new Option<string?>("--public-key") { Description = "The actor's own public key (from 'drydock actor keygen'): no key pair is generated, so only the actor holds its private key." };
        command.Arguments.Add(name);
        command.Options.Add(publicKey);
        if (!bootstrap) command.Options.Add(roles);
        command.Options.Add(expires);
        command.Options.Add(reason);
        ProjectContext.AddOptions(command);
        command.SetAction((parse, _) => ProjectContext.Guard($"actor {verb}", stderr, () =>
        {
            var actor = parse.GetValue(name)!;
            if (ProvenanceRegistry.ActorNameProblem(actor) is { } problem) throw new ArgumentException($"actor '{Printable(actor)}': {problem}");
            var lifetime = Lifetime(parse.GetValue(expires)!);
            var granted = bootstrap ? ["admin"] : parse.GetValue(roles) ?? [];
            var context = ProjectContext.Load(parse);
            using var registry = context.OpenRegistry();
            var now = DateTimeOffset.UtcNow;
            if (bootstrap && registry.Actors().Count > 0) throw new RegistryException("the registry already has actors; 'actor bootstrap' creates only the first admin (an admin runs 'drydock actor create')");
            if (registry.FindActor(actor) is { } existing && existing.State(now) == "active") throw new RegistryException($"actor '{actor}' already has an active grant (until {existing.Expires}); revoke it first");

            // The grantor: the verified actor when access is required; at bootstrap, the operating-system user.
            var grantor = bootstrap ? "os:" + Environment.UserName : Actor.Current;
            if (parse.GetValue(publicKey) is { } publicPath)
            {
                // The actor generated its own pair: the registry gets the public half only; no private key is written here.
                var own = Provenance.Signing.SigningKey.LoadPublic(publicPath);
                var granted2 = registry.GrantActor(actor, granted, own, now + lifetime, parse.GetValue(reason)!, grantor, bootstrap);
                stdout.WriteLine($"{granted2.Name}: {string.Join(", ", granted2.Roles)} until {granted2.Expires}, key {granted2.KeyId}");
                stdout.WriteLine($"private key: held by {actor} alone (it acts with DRYDOCK_ACTOR_KEY set to its own key file)");
            }
            else
            {
                using var key = ActorKeys.Create(registry.Database, actor);
                var grant = registry.GrantActor(actor, granted, key.PublicKey, now + lifetime, parse.GetValue(reason)!, grantor, bootstrap);
                var keyPath = Path.Combine(ActorKeys.FolderOf(registry.Database), actor + ".key");
                stdout.WriteLine($"{grant.Name}: {string.Join(", ", grant.Roles)} until {grant.Expires}, key {grant.KeyId}");
                stdout.WriteLine($"private key: {keyPath} (owner-only; give it to {actor} alone, or set DRYDOCK_ACTOR_KEY to where it is kept; separation of duties holds only when actors hold their own keys: 'drydock actor keygen' and --public-key)");
            }

            if (bootstrap && context.File["access"]?.Value != "required") stderr.WriteLine("drydock actor bootstrap: now add 'access: required' to drydock.yaml: from here on every verb that needs a role refuses to run until it says so");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static TimeSpan Lifetime(string text)
    {
        if (text.Length >= 2 && int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            TimeSpan? lifetime = text[^1] switch
            {
                'd' => TimeSpan.FromDays(n),
                'h' => TimeSpan.FromHours(n),
                'm' => TimeSpan.FromMinutes(n),
                's' => TimeSpan.FromSeconds(n),
                _ => null,
            };
            if (lifetime is { } l && l <= ActorRoles.MaxLifetime) return l;
            if (lifetime is not null) throw new ArgumentException($"--expires '{Printable(text)}': at most {ActorRoles.MaxLifetime.TotalDays:0}d");
        }

        throw new ArgumentException($"--expires '{Printable(text)}': use a number followed by d, h, m or s (30d)");
    }

    private static string Printable(string text) =>
        string.Concat(text.Take(80).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
