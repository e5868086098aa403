using System.CommandLine;
using Drydock.Cli.Infrastructure;
using Drydock.Curation.Policy;
using Drydock.Datasets.Output;
using Drydock.Provenance.Signing;
using Drydock.Provenance.Vault;

namespace Drydock.Cli.Commands;

/// <summary>
/// <c>drydock init</c>: writes a commented starter drydock.yaml and creates the project's keys (an Ed25519 signing
/// key pair and the vault's key ring, both mode 0600 under .drydock/keys). Existing keys are never replaced.
/// </summary>
internal static class InitCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("init", "Write a commented starter drydock.yaml and create the signing key and the vault key ring (.drydock/keys).");
        var path = new Option<string>("--output", "-o") { Description = "Where to write drydock.yaml.", DefaultValueFactory = _ => ProjectContext.ProjectFileName };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing drydock.yaml (keys are never overwritten)." };
        command.Options.Add(path);
        command.Options.Add(force);
        command.SetAction((parse, _) => ProjectContext.Guard("init", stderr, () =>
        {
            var target = parse.GetValue(path)!;
            // The project is the folder of the file: its state goes next to it, whatever project may enclose it.
            var state = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, ProjectContext.StateFolderName);
            var keys = Path.Combine(state, "keys");
            var signingKeyPath = Path.Combine(keys, "signing.key");
            var keyRingPath = Path.Combine(keys, "keyring.json");
            if (File.Exists(target) && !parse.GetValue(force))
            {
                stdout.WriteLine($"kept {target} (it exists; --force overwrites it)");
            }
            else
            {
                using var file = new AtomicFile(target);
                file.Stream.Write(System.Text.Encoding.UTF8.GetBytes(StarterPolicy.Text));
                file.Commit();
                stdout.WriteLine($"wrote {target}");
            }

            // The project's state (registry, keys, request log) is the owner's alone: both folders 0700.
            OwnerOnlyFolder.Create(state);
            OwnerOnlyFolder.Create(keys);
            if (File.Exists(signingKeyPath))
            {
                using var existing = SigningKey.Load(signingKeyPath);
                stdout.WriteLine($"kept signing key {existing.KeyId} ({signingKeyPath})");
            }
            else
            {
                using var created = SigningKey.Create(signingKeyPath);
                stdout.WriteLine($"created signing key {created.KeyId}: {signingKeyPath} (private, 0600) and {signingKeyPath}.pub");
            }

            var existed = File.Exists(keyRingPath);
            var ring = KeyRing.Open(keyRingPath, create: true);
            stdout.WriteLine(ring.Path is null
                ? $"vault key-encryption key from {KeyRing.EnvironmentVariable}"
                : $"{(existed ? "kept" : "created")} vault key ring {keyRingPath} (0600, current key {ring.CurrentKeyId})");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
