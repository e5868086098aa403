using System.CommandLine;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance;
using Drydock.Provenance.Vault;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock vault put|get|list|rotate|verify</c>: encrypted artifacts at rest.</summary>
internal static class VaultCommand
{
    private static readonly Option<string> s_vaultOption = new("--vault") { Description = "The vault folder.", DefaultValueFactory = _ => ProjectContext.VaultFolder };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("vault", "Encrypt datasets, checkpoints and logs at rest (AES-256-GCM, a data key per artifact, wrapped by the key ring's key).");

        var put = new Command("put", "Encrypt a file into the vault; prints its id (the SHA-256 of its content).");
        var file = new Argument<string>("file");
        var kind = new Option<string>("--kind") { Description = "dataset, checkpoint, log or other.", DefaultValueFactory = _ => "other" };
        kind.AcceptOnlyFromAmong([.. ArtifactVault.Kinds]);
        var name = new Option<string?>("--name") { Description = "A name (default: the file name)." };
        put.Arguments.Add(file);
        put.Options.Add(kind);
        put.Options.Add(name);
        put.Options.Add(s_vaultOption);
        put.SetAction((parse, _) => ProjectContext.Guard("vault put", stderr, () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
            var artifact = Open(parse, create: true).Put(path, parse.GetValue(kind)!, parse.GetValue(name), Actor.Current);
            stdout.WriteLine($"{artifact.Id}  {artifact.Kind}  {artifact.Bytes} bytes  {artifact.Name}");
            return ExitCodes.Ok;
        }));

        var get = new Command("get", "Decrypt an artifact to a file (written only when every segment and the content hash check out).");
        var id = new Argument<string>("id") { Description = "The artifact id (or 8+ leading hex digits)." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the plaintext.", Required = true };
        get.Arguments.Add(id);
        get.Options.Add(output);
        get.Options.Add(s_vaultOption);
        get.SetAction((parse, _) => ProjectContext.Guard("vault get", stderr, () =>
        {
            var artifact = Open(parse, create: false).Get(parse.GetValue(id)!, parse.GetValue(output)!);
            stdout.WriteLine($"{artifact.Id}  {artifact.Bytes} bytes -> {parse.GetValue(output)}");
            return ExitCodes.Ok;
        }));

        var list = new Command("list", "List the vault's artifacts.");
        list.Options.Add(s_vaultOption);
        list.SetAction((parse, _) => ProjectContext.Guard("vault list", stderr, () =>
        {
            var artifacts = new ArtifactVault(parse.GetValue(s_vaultOption)!, NoKeys.Instance).List();
            foreach (var a in artifacts) stdout.WriteLine($"{a.Id[..16]}  {a.Kind,-10} {a.Bytes,14}  {a.Created}  {a.CreatedBy,-12} {a.Key.KeyId}  {a.Name}");
            if (artifacts.Count == 0) stdout.WriteLine("(empty vault)");
            return ExitCodes.Ok;
        }));

        var rotate = new Command("rotate", "Create a new key-encryption key and re-wrap every data key with it (the data is not re-encrypted); old keys are then retired.");
        rotate.Options.Add(s_vaultOption);
        rotate.SetAction((parse, _) => ProjectContext.Guard("vault rotate", stderr, () =>
        {
            var ring = KeyRing.Open(ProjectContext.KeyRingPath, create: false);
            if (ring.Path is null) throw new KeyRingException($"the key comes from {KeyRing.EnvironmentVariable}; rotation needs the key-ring file");
            var old = ring.KeyIds;
            var vault = new ArtifactVault(parse.GetValue(s_vaultOption)!, ring);
            var newKey = ring.AddKey();
            ring.Save(); // the new key is on disk before any artifact depends on it
            var count = vault.Rewrap(ring);
            foreach (var retired in old) ring.RemoveKey(retired);
            ring.Save();
            stdout.WriteLine($"rotated to {newKey}: {count} data keys re-wrapped; retired {string.Join(", ", old.ToArray())}");
            return ExitCodes.Ok;
        }));

        var verify = new Command("verify", "Decrypt and authenticate every artifact (or one) without writing plaintext; exit 1 if any fails.");
        var one = new Argument<string?>("id") { Arity = ArgumentArity.ZeroOrOne };
        verify.Arguments.Add(one);
        verify.Options.Add(s_vaultOption);
        verify.SetAction((parse, _) => ProjectContext.Guard("vault verify", stderr, () =>
        {
            var results = Open(parse, create: false).Verify(parse.GetValue(one));
            foreach (var r in results) (r.Ok ? stdout : stderr).WriteLine($"{r.Id[..16]}  {(r.Ok ? "ok" : "FAILED")}  {r.Name}{(r.Ok ? "" : ": " + r.Message)}");
            stdout.WriteLine($"{results.Count(r => r.Ok)} ok, {results.Count(r => !r.Ok)} failed");
            return results.All(r => r.Ok) ? ExitCodes.Ok : ExitCodes.Findings;
        }));

        foreach (var sub in new[] { put, get, list, rotate, verify }) command.Subcommands.Add(sub);
        return command;
    }

    private static ArtifactVault Open(ParseResult parse, bool create) => new(parse.GetValue(s_vaultOption)!, KeyRing.Open(ProjectContext.KeyRingPath, create));

    // Listing reads metadata only and needs no key.
    private sealed class NoKeys : IKeyEncryptionKeys
    {
        public static readonly NoKeys Instance = new();

        public string CurrentKeyId => "";

        public WrappedKey Wrap(ReadOnlySpan<byte> dataKey, string context) => throw new KeyRingException("no key");

        public byte[] Unwrap(WrappedKey wrapped, string context) => throw new KeyRingException("no key");
    }
}
