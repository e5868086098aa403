using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Drydock.Curation.Policy;

namespace Drydock.Curation;

/// <summary>One input of a clean run.</summary>
public sealed record ManifestInput(string File, string Format, string Sha256, long Bytes, long Records, SourcePolicy Source);

/// <summary>
/// The manifest of a cleaned dataset: its version (SHA-256 of the output bytes), what went in (input hashes), under
/// which policy and tool version, what was done (counts per action, category, type and disposition) and the hashes of
/// the quarantine, ledger and held-out files. It holds no timestamp, so the same run gives the same bytes.
/// </summary>
public sealed record CleanManifest
{
    /// <summary>drydock's version.</summary>
    public required string ToolVersion { get; init; }

    /// <summary>SHA-256 of the cleaned output's bytes: the dataset version.</summary>
    public required string DatasetVersion { get; init; }

    /// <summary>The cleaned output.</summary>
    public required string Output { get; init; }

    /// <summary>Records written to the output.</summary>
    public long Records { get; init; }

    /// <summary>The held-out file, if any.</summary>
    public string? Holdout { get; init; }

    /// <summary>Records written to the held-out file.</summary>
    public long HoldoutRecords { get; init; }

    /// <summary>SHA-256 of the held-out file.</summary>
    public string? HoldoutSha256 { get; init; }

    /// <summary>The quarantine file.</summary>
    public required string Quarantine { get; init; }

    /// <summary>Records quarantined (including malformed ones).</summary>
    public long QuarantineRecords { get; init; }

    /// <summary>SHA-256 of the quarantine file.</summary>
    public required string QuarantineSha256 { get; init; }

    /// <summary>The ledger file.</summary>
    public required string Ledger { get; init; }

    /// <summary>Ledger lines.</summary>
    public long LedgerEntries { get; init; }

    /// <summary>SHA-256 of the ledger.</summary>
    public required string LedgerSha256 { get; init; }

    /// <summary>Inputs, in order.</summary>
    public required IReadOnlyList<ManifestInput> Inputs { get; init; }

    /// <summary>SHA-256 of the effective policy.</summary>
    public required string PolicyHash { get; init; }

    /// <summary>The policy's use case.</summary>
    public required string UseCase { get; init; }

    /// <summary>The highest classification the use case may train on.</summary>
    public required Classification MaxClassification { get; init; }

    /// <summary>The project.</summary>
    public required string Project { get; init; }

    /// <summary>Ledger lines per action.</summary>
    public required IReadOnlyDictionary<string, long> Actions { get; init; }

    /// <summary>Ledger lines per category.</summary>
    public required IReadOnlyDictionary<string, long> Categories { get; init; }

    /// <summary>Ledger lines per type.</summary>
    public required IReadOnlyDictionary<string, long> Types { get; init; }

    /// <summary>Records per outcome (kept, quarantined, malformed, dropped, exact-duplicate, near-duplicate, held-out, split-conflict: near-duplicates of both sides of the split, not-selected).</summary>
    public required IReadOnlyDictionary<string, long> Dispositions { get; init; }

    /// <summary>The held-out fraction asked for.</summary>
    public double HoldoutFraction { get; init; }

    /// <summary>The seed.</summary>
    public int Seed { get; init; }

    /// <summary>The --keep count, if any.</summary>
    public int? Keep { get; init; }

    /// <summary>The manifest as indented JSON (fixed key order).</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("tool");
            w.WriteString("name", "drydock");
            w.WriteString("version", ToolVersion);
            w.WriteEndObject();
            w.WriteString("datasetVersion", "sha256:" + DatasetVersion);
            w.WriteStartObject("output");
            w.WriteString("file", Output);
            w.WriteNumber("records", Records);
            w.WriteString("sha256", DatasetVersion);
            w.WriteEndObject();
            if (Holdout is null)
            {
                w.WriteNull("holdout");
            }
            else
            {
                w.WriteStartObject("holdout");
                w.WriteString("file", Holdout);
                w.WriteNumber("records", HoldoutRecords);
                w.WriteString("sha256", HoldoutSha256);
                w.WriteNumber("fraction", HoldoutFraction);
                w.WriteNumber("seed", Seed);
                w.WriteEndObject();
            }

            w.WriteStartObject("quarantine");
            w.WriteString("file", Quarantine);
            w.WriteNumber("records", QuarantineRecords);
            w.WriteString("sha256", QuarantineSha256);
            w.WriteEndObject();
            w.WriteStartObject("ledger");
            w.WriteString("file", Ledger);
            w.WriteNumber("entries", LedgerEntries);
            w.WriteString("sha256", LedgerSha256);
            w.WriteEndObject();
            w.WriteStartArray("inputs");
            foreach (var input in Inputs)
            {
                w.WriteStartObject();
                w.WriteString("file", input.File);
                w.WriteString("format", input.Format);
                w.WriteString("sha256", input.Sha256);
                w.WriteNumber("bytes", input.Bytes);
                w.WriteNumber("records", input.Records);
                w.WriteStartObject("source");
                w.WriteString("path", input.Source.Path);
                w.WriteString("classification", input.Source.Classification.Name());
                w.WriteString("trust", input.Source.Trusted ? "trusted" : "untrusted");
                if (input.Source.Owner is null) w.WriteNull("owner"); else w.WriteString("owner", input.Source.Owner);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("policy");
            w.WriteString("hash", PolicyHash);
            w.WriteString("project", Project);
            w.WriteString("useCase", UseCase);
            w.WriteString("maxClassification", MaxClassification.Name());
            w.WriteEndObject();
            if (Keep is { } keep) w.WriteNumber("keep", keep); else w.WriteNull("keep");
            w.WriteStartObject("counts");
            foreach (var (name, counts) in new[] { ("dispositions", Dispositions), ("actions", Actions), ("categories", Categories), ("types", Types) })
            {
                w.WriteStartObject(name);
                foreach (var (key, value) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteNumber(key, value);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return [.. buffer.WrittenSpan, (byte)'\n'];
    }
}
