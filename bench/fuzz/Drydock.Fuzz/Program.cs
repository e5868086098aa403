using System.Diagnostics;
using Drydock.Fuzz;
using SharpFuzz;

// Drydock.Fuzz list                       the targets
// Drydock.Fuzz fuzz TARGET                under afl-fuzz (persistent mode; the assemblies instrumented by run.sh)
// Drydock.Fuzz replay TARGET PATH...      each file (or every file of a folder) through the target, in process
// Drydock.Fuzz smoke [CORPUS]             every target over its corpus folder (bench/fuzz/corpus/TARGET): the CI smoke
// Drydock.Fuzz stability TARGET ROUNDS PATH...  the inputs round after round in one process, the edges that change (from inst/)
// Drydock.Fuzz pickle-verdicts PATH...   the scanner's verdict on each file (every file of a folder) as JSON, with its allow-list
// Drydock.Fuzz seed CORPUS                the seeds only C# writes (Parquet files, the starter policy); make-seeds.py does the rest
switch (args)
{
    case ["list"]:
        foreach (var name in Targets.All.Keys) Console.WriteLine(name);
        return 0;
    case ["fuzz", var name]:
        // Nothing instrumented may run before Fuzzer.Run maps AFL's coverage map (the rule catalogue that Targets
        // builds is): the target is looked up, and the detectors built, with the first input.
        // Out of process: this process is AFL's fork server and runs the target in a child .NET process, which it
        // starts again when an input kills it (a hang past AFL's time limit, a stack overflow). In process, AFL's
        // kill on a hang killed the fork server itself and ended the campaign ("Unable to communicate with fork
        // server"), so a target with one slow input could not be fuzzed.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            Targets.All[name](buffer.ToArray());
        });
        return 0;
    case ["replay", var name, .. var paths] when Targets.All.TryGetValue(name, out var target):
        return Replay(name, target, paths.SelectMany(Files), verbose: true) == 0 ? 0 : 1;
    case ["stability", var name, var runs, .. var paths] when int.TryParse(runs, out var count) && count > 1:
        // Before Targets is first touched: its static fields build the catalogue, instrumented code.
        Stability.MapCoverage();
        return Targets.All.TryGetValue(name, out var unstable) ? Stability.Run(name, unstable, paths.SelectMany(Files), count) : 2;
    case ["smoke", .. var rest] when rest.Length <= 1:
    {
        var root = rest.Length == 1 ? rest[0] : Path.Combine(AppContext.BaseDirectory, "corpus");
        var failed = 0;
        foreach (var (name, target) in Targets.All)
        {
            var folder = Path.Combine(root, name);
            if (!Directory.Exists(folder))
            {
                Console.Error.WriteLine($"{name}: no corpus at {folder}");
                failed++;
                continue;
            }

            failed += Replay(name, target, Files(folder), verbose: false);
        }

        return failed == 0 ? 0 : 1;
    }

    case ["pickle-verdicts", .. var paths] when paths.Length > 0:
        PickleVerdicts.Write(paths.SelectMany(Files));
        return 0;
    case ["seed", var corpus]:
        await Seeds.WriteAsync(corpus);
        return 0;
    default:
        Console.Error.WriteLine("usage: Drydock.Fuzz list | fuzz TARGET | replay TARGET PATH... | stability TARGET ROUNDS PATH... | smoke [CORPUS] | pickle-verdicts PATH... | seed CORPUS");
        Console.Error.WriteLine("targets: " + string.Join(", ", Targets.All.Keys));
        return 2;
}

static IEnumerable<string> Files(string path) =>
    Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : [path];

static int Replay(string name, Action<byte[]> target, IEnumerable<string> files, bool verbose)
{
    var clock = Stopwatch.StartNew();
    var count = 0;
    var failed = 0;
    foreach (var file in files)
    {
        count++;
        try
        {
            target(File.ReadAllBytes(file));
        }
        catch (Exception e)
        {
            failed++;
            Console.Error.WriteLine($"{name}: {file}: {(verbose ? e.ToString() : e.GetType().Name + ": " + e.Message)}");
        }
    }

    Console.WriteLine($"{name}: {count} inputs, {failed} failed, {clock.ElapsedMilliseconds} ms");
    return failed;
}
