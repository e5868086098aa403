using System.Text.Json;
using Drydock.SupplyChain.ModelFiles;

namespace Drydock.Fuzz;

/// <summary>
/// The scanner's side of the pickle differential check (bench/fuzz/pickle-differential.py): the allow-list the
/// scanner judges globals by, and, for every file, the verdict of the whole model-file scanner on it as a
/// <c>.pkl</c> (safe: no finding at all) with the types of its findings. Python compares what its own unpickler
/// resolves against exactly this list, so the two are compared, never copied.
/// </summary>
internal static class PickleVerdicts
{
    public static void Write(IEnumerable<string> files)
    {
        var folder = Directory.CreateTempSubdirectory("drydock-verdicts-").FullName;
        try
        {
            var path = Path.Combine(folder, "input.pkl");
            using var stdout = Console.OpenStandardOutput();
            using var json = new Utf8JsonWriter(stdout);
            json.WriteStartObject();
            json.WriteStartArray("allowList");
            foreach (var name in PickleScanner.AllowList.Order(StringComparer.Ordinal)) json.WriteStringValue(name);
            json.WriteEndArray();
            json.WriteStartArray("files");
            foreach (var file in files)
            {
                File.Copy(file, path, overwrite: true);
                var report = ModelScanner.ScanFile(path);
                json.WriteStartObject();
                json.WriteString("path", file);
                json.WriteBoolean("safe", report.Findings.Count == 0);
                json.WriteStartArray("findings");
                foreach (var type in report.Findings.Select(f => f.Type).Distinct(StringComparer.Ordinal)) json.WriteStringValue(type);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.Flush();
            stdout.WriteByte((byte)'\n');
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
