using System.CommandLine;
using Drydock.Cli.Infrastructure;
using Drydock.Provenance.Signing;
using NSec.Cryptography;

namespace Drydock.Cli.Commands;

/// <summary><c>drydock verify</c>: checks a DSSE envelope's signature and its subjects' digests.</summary>
internal static class VerifyCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("verify", "Verify a signed manifest or model record (a .dsse.json envelope): the signature, then each subject file's SHA-256.");
        var file = new Argument<string>("envelope") { Description = "The .dsse.json file (or the file it signs, when FILE.dsse.json exists)." };
        var keys = new Option<string[]>("--key") { Description = "A trusted public key (PEM); default: .drydock/keys/signing.key.pub and .drydock/keys/trusted/*.pub.", AllowMultipleArgumentsPerToken = true };
        command.Arguments.Add(file);
        command.Options.Add(keys);
        command.SetAction((parse, _) => ProjectContext.Guard("verify", stderr, () =>
        {
            var path = parse.GetValue(file)!;
            if (!path.EndsWith(".dsse.json", StringComparison.Ordinal) && File.Exists(path + ".dsse.json")) path += ".dsse.json";
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
            var trusted = TrustedKeys(parse.GetValue(keys) ?? []);
            if (trusted.Count == 0) throw new ArgumentException("no trusted public key: pass --key FILE or run 'drydock init'");
            var result = Dsse.Verify(File.ReadAllBytes(path), trusted, Path.GetDirectoryName(Path.GetFullPath(path)));
            // Beyond the listed subjects: every file of a signed model folder and of a signed dataset version.
            var uncovered = SignedCoverage.Check(path, result);
            if (!result.Ok || uncovered.Count > 0)
            {
                stderr.WriteLine($"drydock verify: {path}: FAILED");
                foreach (var problem in result.Problems.Concat(uncovered)) stderr.WriteLine($"  - {problem}");
                return ExitCodes.Findings;
            }

            stdout.WriteLine($"{path}: signature ok ({result.KeyId}), {result.PredicateType}");
            foreach (var subject in result.Subjects) stdout.WriteLine($"  {subject.Name}  sha256:{subject.Sha256}  ok");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static List<PublicKey> TrustedKeys(string[] given)
    {
        var files = given.Length > 0
            ? given
            : [.. new[] { ProjectContext.SigningKeyPath + ".pub" }.Where(File.Exists),
               .. Directory.Exists(Path.Combine(ProjectContext.KeysFolder, "trusted")) ? Directory.GetFiles(Path.Combine(ProjectContext.KeysFolder, "trusted"), "*.pub") : []];
        return [.. files.Select(f => File.Exists(f) ? SigningKey.LoadPublic(f) : throw new FileNotFoundException($"{f}: no such key file"))];
    }
}
