using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Evaluation;

/// <summary>A results file that was edited, reordered or cut in the middle: it is refused, never resumed or counted.</summary>
public sealed class ResultsTamperedException(string message) : Exception(message);

/// <summary>
/// The seal on a results file. Every line (the fingerprint line first) ends with <c>"mac"</c>: HMAC-SHA256, under the
/// run key, of the previous line's MAC, a newline and the line without its MAC. The run key is HMAC-SHA256 of the
/// run's fingerprint under the registry's results key, kept outside the project beside the audit witness
/// (<see cref="KeyPath"/>, owner-only), so a line edited, moved, removed from the middle or copied from another run
/// breaks the chain, and write access to the project alone cannot reseal a forged file. Lines removed from the end
/// are run again on resume; the gate also compares the whole file with the SHA-256 recorded with the evaluation.
/// </summary>
public static class ResultsFile
{
    private const string MacField = ",\"mac\":\"";

    /// <summary>Where the results key of earlier versions lay, inside the project (refused now: see <see cref="KeyPath"/>).</summary>
    public const string ProjectKeyPath = ".drydock/keys/results.key";

    /// <summary>
    /// The results key of a registry: in the audit witness's folder (<c>$DRYDOCK_STATE_HOME</c>, else
    /// <c>$XDG_STATE_HOME/drydock</c>, else <c>~/.local/state/drydock</c>), named by the registry's identity, so a
    /// copy of the registry elsewhere has the same key, and someone who can write the project but not the user's
    /// home cannot reseal a forged results file.
    /// </summary>
    public static string KeyPath(RegistryDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (Provenance.Audit.AuditWitness.FolderProblem(db) is { } problem) throw new KeyRingException(problem);
        return Path.Combine(Provenance.Audit.AuditWitness.Folder, "results-id-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(db.Identity)))[..16] + ".key");
    }

    /// <summary>
    /// Reads a results key, creating it (32 random bytes, owner-only, in an owner-only folder) when
    /// <paramref name="create"/> is set; null when absent and not created. A key others can read or write, or that is
    /// not 32 bytes, is refused (<see cref="KeyRingException"/>), never used.
    /// </summary>
    public static byte[]? LoadKey(string path, bool create)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            if (!create) return null;
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
            else Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            KeyFiles.WriteSecret(path, RandomNumberGenerator.GetBytes(32));
        }

        Detection.Configuration.RegularFiles.Check(path);
        KeyFiles.CheckPrivate(path);
        var key = Detection.Configuration.RegularFiles.ReadAllBytes(path, 1024);
        if (key.Length != 32) throw new KeyRingException($"{path} is not a results key ({key.Length} bytes, not 32); restore it, or remove it and evaluate again");
        return key;
    }

    /// <summary>The key of one run: its fingerprint under the project's results key.</summary>
    public static byte[] RunKey(byte[] resultsKey, string fingerprint) => HMACSHA256.HashData(resultsKey, Encoding.UTF8.GetBytes(fingerprint));

    /// <summary>The line for a JSON object <paramref name="json"/> after the line whose MAC is <paramref name="previousMac"/> ("" for the first); <paramref name="mac"/> is its own.</summary>
    public static string Seal(byte[] runKey, string previousMac, string json, out string mac)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length < 2 || json[0] != '{' || json[^1] != '}') throw new ArgumentException("a results line is a JSON object", nameof(json));
        mac = Mac(runKey, previousMac, json);
        return json[..^1] + MacField + mac + "\"}";
    }

    /// <summary>The JSON of a sealed line when its MAC follows <paramref name="previousMac"/>; null when it does not (or it has none).</summary>
    public static string? Open(byte[] runKey, string previousMac, string line, out string mac)
    {
        ArgumentNullException.ThrowIfNull(line);
        mac = "";
        var at = line.LastIndexOf(MacField, StringComparison.Ordinal);
        if (at < 1 || !line.EndsWith("\"}", StringComparison.Ordinal) || line.Length - at != MacField.Length + 64 + 2) return null;
        var json = line[..at] + "}";
        var given = line.Substring(at + MacField.Length, 64);
        var expected = Mac(runKey, previousMac, json);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(given), Encoding.ASCII.GetBytes(expected))) return null;
        mac = expected;
        return json;
    }

    /// <summary>Checks every line of a results file of run <paramref name="fingerprint"/>; null when all are sealed in order, else the first bad line.</summary>
    public static string? Verify(string path, byte[] resultsKey, string fingerprint)
    {
        var runKey = RunKey(resultsKey, fingerprint);
        var previous = "";
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (Open(runKey, previous, line, out previous) is not { } json) return $"{path}:{number}: the line does not match its seal (edited, reordered, removed or from another run)";
            if (number == 1 && !json.Contains(fingerprint, StringComparison.Ordinal)) return $"{path}:1: not the results of run {fingerprint[..12]}";
        }

        return number == 0 ? $"{path} is empty" : null;
    }

    /// <summary>
    /// Why the results file behind a recorded probe evaluation is no evidence (gone, changed since it was recorded,
    /// or not sealed under the registry's results key), or null when it stands. Other kinds are not checked here.
    /// </summary>
    public static string? CheckRecorded(EvaluationRecord evaluation, byte[]? resultsKey)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        if (evaluation.Kind != "probes" || evaluation.Evidence is null) return null;
        JsonObject? json = null;
        try
        {
            json = JsonNode.Parse(evaluation.Evidence.Json) as JsonObject;
        }
        catch (JsonException)
        {
        }

        if (json?["resultsFile"] is not JsonValue file || !file.TryGetValue<string>(out var path)) return "its results file is not named (recorded before results files were sealed); evaluate again";
        if (!File.Exists(path)) return $"its results file {path} is gone; evaluate again";
        if (Dsse.Sha256Of(path) != (string?)json["resultsSha256"]) return $"its results file {path} changed after it was recorded; evaluate again";
        if (resultsKey is null) return "there is no results key for this registry (kept beside the audit witness, outside the project) to check its results file with; evaluate again";
        return Verify(path, resultsKey, evaluation.Evidence.Fingerprint);
    }

    private static string Mac(byte[] runKey, string previousMac, string json) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(runKey, Encoding.UTF8.GetBytes(previousMac + "\n" + json)));
}
