using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Datasets;

namespace Drydock.Training.Runs;

/// <summary>
/// Which trainer runs: <c>reference</c> (Drydock's byte-level GPT trainer, Python with PyTorch) or <c>command</c> (any
/// external trainer's command line; <c>{plan}</c>, <c>{train}</c>, <c>{held_out}</c>, <c>{output}</c> and
/// <c>{base}</c> are replaced by the paths in the run folder, which are also in DRYDOCK_PLAN, DRYDOCK_TRAIN,
/// DRYDOCK_HELD_OUT, DRYDOCK_OUTPUT and DRYDOCK_BASE).
/// </summary>
public sealed record TrainerSpec(string Kind, IReadOnlyList<string> Command, string Python)
{
    /// <summary>The reference trainer run by <paramref name="python"/> (Debian's /usr/bin/python3 has python3-torch).</summary>
    public static TrainerSpec Reference(string? python = null) =>
        new("reference", [], python ?? (Environment.GetEnvironmentVariable("DRYDOCK_PYTHON") is { Length: > 0 } env ? env : File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"));
}

/// <summary>What a training run consumes: the plan (canonical JSON), the training and held-out files, and the base model's folder.</summary>
public sealed record TrainingInputs(string PlanJson, string TrainPath, string HeldOutPath, string? BaseModelFolder);

/// <summary>
/// One training run in a private folder (mode 0700 under the temporary directory): the plan written as plan.json,
/// the training and held-out data copied in (for the reference trainer, rendered as one text per record), the
/// trainer run confined by <see cref="IsolatedRun"/>, its output folder handed to <c>collect</c>, and the folder
/// wiped afterwards (data files overwritten, then everything deleted), whatever happened.
/// </summary>
public static class TrainerRun
{
    /// <summary>Runs the trainer; <paramref name="collect"/> takes what it needs from the output folder before the wipe.</summary>
    public static async Task<T> RunAsync<T>(TrainerSpec trainer, TrainingInputs inputs, IsolationOptions isolation, Func<string, ProcessOutcome, T> collect, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(collect);
        var folder = Directory.CreateTempSubdirectory("drydock-run-").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var data = Path.Combine(folder, "data");
            var output = Path.Combine(folder, "output");
            Directory.CreateDirectory(data);
            Directory.CreateDirectory(output);
            var plan = Path.Combine(folder, "plan.json");
            File.WriteAllText(plan, inputs.PlanJson);
            var reference = trainer.Kind == "reference";
            var train = Path.Combine(data, reference ? "train.jsonl" : "train" + Extension(inputs.TrainPath));
            var heldOut = Path.Combine(data, reference ? "held-out.jsonl" : "held-out" + Extension(inputs.HeldOutPath));
            if (reference)
            {
                WriteTexts(inputs.TrainPath, train);
                WriteTexts(inputs.HeldOutPath, heldOut);
            }
            else
            {
                File.Copy(inputs.TrainPath, train);
                File.Copy(inputs.HeldOutPath, heldOut);
            }

            var basePath = "";
            if (inputs.BaseModelFolder is { } baseFolder)
            {
                basePath = Path.Combine(folder, "base");
                Directory.CreateDirectory(basePath);
                foreach (var file in Directory.EnumerateFiles(baseFolder)) File.Copy(file, Path.Combine(basePath, Path.GetFileName(file)));
            }

            var env = new Dictionary<string, string>
            {
                ["DRYDOCK_PLAN"] = plan, ["DRYDOCK_TRAIN"] = train, ["DRYDOCK_HELD_OUT"] = heldOut, ["DRYDOCK_OUTPUT"] = output, ["DRYDOCK_BASE"] = basePath,
                ["OMP_NUM_THREADS"] = "1", ["OPENBLAS_NUM_THREADS"] = "1", ["PYTHONDONTWRITEBYTECODE"] = "1",
            };
            List<string> command;
            if (reference)
            {
                var script = Path.Combine(folder, "train.py");
                using (var resource = typeof(TrainerRun).Assembly.GetManifestResourceStream("reference/train.py")!)
                using (var file = File.Create(script))
                {
                    resource.CopyTo(file);
                }

                command = [trainer.Python, script, "--plan", plan, "--train", train, "--held-out", heldOut, "--out", output];
                if (basePath.Length > 0) command.AddRange(["--base", Path.Combine(basePath, "model.pt")]);
            }
            else
            {
                command = [.. trainer.Command.Select(a => a.Replace("{plan}", plan, StringComparison.Ordinal).Replace("{train}", train, StringComparison.Ordinal)
                    .Replace("{held_out}", heldOut, StringComparison.Ordinal).Replace("{output}", output, StringComparison.Ordinal).Replace("{base}", basePath, StringComparison.Ordinal))];
            }

            var outcome = await IsolatedRun.RunAsync(command, folder, env, isolation, cancellationToken).ConfigureAwait(false);
            return collect(output, outcome);
        }
        finally
        {
            Wipe(folder);
        }
    }

    private static string Extension(string path) => Path.GetFileName(path) is var name && name.IndexOf('.', StringComparison.Ordinal) is var dot and > 0 ? name[dot..] : "";

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // One {"text": …} line per record, streamed (the dataset is never held in memory whole).
    private static void WriteTexts(string source, string destination)
    {
        using var writer = new StreamWriter(destination, false, new UTF8Encoding(false));
        foreach (var text in DatasetReader.EnumerateTexts(source))
        {
            writer.Write(new JsonObject { ["text"] = text }.ToJsonString(Relaxed));
            writer.Write('\n');
        }
    }

    // Data and checkpoints are overwritten before deletion, so a plain copy does not linger in free blocks of a
    // simple file system (best effort: journaling and copy-on-write file systems may keep old blocks).
    private static void Wipe(string folder)
    {
        try
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            {
                try
                {
                    using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
                    var zeros = new byte[Math.Min(1 << 20, Math.Max(1, stream.Length))];
                    for (long done = 0; done < stream.Length; done += zeros.Length) stream.Write(zeros, 0, (int)Math.Min(zeros.Length, stream.Length - done));
                    stream.Flush(flushToDisk: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // deleted below all the same
                }
            }

            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file the trainer left open or read-only: nothing more can be done here; the folder is private (0700).
        }
    }
}
