using System.Buffers;
using System.Text.Json;

namespace Drydock.Gateway.Monitoring;

/// <summary>
/// What the gateway counts of one model alias, tier and key in one time bucket (a row of the signal log), and what
/// <c>drydock monitor</c> sums rows into. Counts, types, scores and hashed template ids only: no text, no key.
/// </summary>
public sealed class SignalCounts
{
    /// <summary>Bins of the length and latency histograms: bin i holds values v with ⌊log₂(v + 1)⌋ = i (the last: all above).</summary>
    public const int Bins = 16;

    /// <summary>Requests.</summary>
    public long Requests { get; set; }

    /// <summary>Tokens the answers used (as the model server counted them, or estimated).</summary>
    public long Tokens { get; set; }

    /// <summary>Latency summed, milliseconds.</summary>
    public long LatencyMs { get; set; }

    /// <summary>Requests that went to the model server and ended in a 5xx (its error, timeout or malformed answer).</summary>
    public long UpstreamErrors { get; set; }

    /// <summary>Answers in which a registered canary appeared.</summary>
    public long CanaryHits { get; set; }

    /// <summary>Answers the refusal judge read.</summary>
    public long Answers { get; set; }

    /// <summary>Answers the refusal judge found to be refusals.</summary>
    public long Refusals { get; set; }

    /// <summary>Requests the input guard blocked.</summary>
    public long InputBlockedRequests { get; set; }

    /// <summary>Requests with input findings let through (flagged).</summary>
    public long InputFlaggedRequests { get; set; }

    /// <summary>Answers the output guard blocked (a canary too).</summary>
    public long OutputBlockedRequests { get; set; }

    /// <summary>Answers with findings redacted or flagged and sent.</summary>
    public long OutputRedactedRequests { get; set; }

    /// <summary>Requests with an extraction score above zero.</summary>
    public long ExtractionScored { get; set; }

    /// <summary>Requests with an extraction score at or above the gateway's abuse threshold.</summary>
    public long ExtractionHigh { get; set; }

    /// <summary>The highest extraction score.</summary>
    public double ExtractionMax { get; set; }

    /// <summary>Prompt length (characters) histogram.</summary>
    public long[] PromptLength { get; } = new long[Bins];

    /// <summary>Latency (milliseconds) histogram.</summary>
    public long[] Latency { get; } = new long[Bins];

    /// <summary>Input findings by type in requests the input guard blocked.</summary>
    public Dictionary<string, long> InputBlocked { get; } = new(StringComparer.Ordinal);

    /// <summary>Input findings by type in requests let through (flagged).</summary>
    public Dictionary<string, long> InputFlagged { get; } = new(StringComparer.Ordinal);

    /// <summary>Output findings by type in answers redacted or let through flagged.</summary>
    public Dictionary<string, long> OutputRedacted { get; } = new(StringComparer.Ordinal);

    /// <summary>Output findings by type in answers blocked.</summary>
    public Dictionary<string, long> OutputBlocked { get; } = new(StringComparer.Ordinal);

    /// <summary>Requests by prompt template cluster (keyed MinHash ids of the prompt's opening).</summary>
    public Dictionary<string, long> Templates { get; } = new(StringComparer.Ordinal);

    /// <summary>The histogram bin of <paramref name="value"/>.</summary>
    public static int Bin(double value) => value < 1 ? 0 : Math.Min(Bins - 1, (int)Math.Log2(value + 1));

    /// <summary>Sets every count back to zero (a reader reuses one instance per row).</summary>
    public void Clear()
    {
        Requests = Tokens = LatencyMs = UpstreamErrors = CanaryHits = Answers = Refusals = ExtractionScored = ExtractionHigh = 0;
        InputBlockedRequests = InputFlaggedRequests = OutputBlockedRequests = OutputRedactedRequests = 0;
        ExtractionMax = 0;
        Array.Clear(PromptLength);
        Array.Clear(Latency);
        InputBlocked.Clear();
        InputFlagged.Clear();
        OutputRedacted.Clear();
        OutputBlocked.Clear();

        // Template ids recur from row to row: a few are kept at zero rather than removed, so the next row finds them
        // without a new string (readers skip zeros).
        if (Templates.Count > 256) Templates.Clear();
        else foreach (var id in Templates.Keys) System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(Templates, id) = 0;
    }

    /// <summary>Adds <paramref name="other"/> (templates too when <paramref name="templates"/>).</summary>
    public void Add(SignalCounts other, bool templates = true)
    {
        ArgumentNullException.ThrowIfNull(other);
        Requests += other.Requests;
        Tokens += other.Tokens;
        LatencyMs += other.LatencyMs;
        UpstreamErrors += other.UpstreamErrors;
        CanaryHits += other.CanaryHits;
        Answers += other.Answers;
        Refusals += other.Refusals;
        ExtractionScored += other.ExtractionScored;
        InputBlockedRequests += other.InputBlockedRequests;
        InputFlaggedRequests += other.InputFlaggedRequests;
        OutputBlockedRequests += other.OutputBlockedRequests;
        OutputRedactedRequests += other.OutputRedactedRequests;
        ExtractionHigh += other.ExtractionHigh;
        ExtractionMax = Math.Max(ExtractionMax, other.ExtractionMax);
        for (var i = 0; i < Bins; i++)
        {
            PromptLength[i] += other.PromptLength[i];
            Latency[i] += other.Latency[i];
        }

        Merge(InputBlocked, other.InputBlocked);
        Merge(InputFlagged, other.InputFlagged);
        Merge(OutputRedacted, other.OutputRedacted);
        Merge(OutputBlocked, other.OutputBlocked);
        if (templates) Merge(Templates, other.Templates);
    }

    internal static void Merge(Dictionary<string, long> into, Dictionary<string, long> from)
    {
        foreach (var (k, v) in from) into[k] = into.GetValueOrDefault(k) + v;
    }

    /// <summary>Input findings by type, blocked and flagged together.</summary>
    public Dictionary<string, long> InputFindings()
    {
        var all = new Dictionary<string, long>(InputBlocked, StringComparer.Ordinal);
        Merge(all, InputFlagged);
        return all;
    }

    /// <summary>Output findings by type, redacted and blocked together.</summary>
    public Dictionary<string, long> OutputFindings()
    {
        var all = new Dictionary<string, long>(OutputRedacted, StringComparer.Ordinal);
        Merge(all, OutputBlocked);
        return all;
    }

    /// <summary>Writes one row: the bucket's start (Unix seconds), alias, tier, key id, then every count that is not zero.</summary>
    internal void Write(Utf8JsonWriter w, long at, string alias, string tier, string key)
    {
        w.WriteStartObject();
        w.WriteNumber("at", at);
        w.WriteString("alias", alias);
        w.WriteString("tier", tier);
        w.WriteString("key", key);
        w.WriteNumber("requests", Requests);
        Number(w, "tokens", Tokens);
        Number(w, "latencyMs", LatencyMs);
        Number(w, "upstreamErrors", UpstreamErrors);
        Number(w, "canaryHits", CanaryHits);
        Number(w, "answers", Answers);
        Number(w, "refusals", Refusals);
        Number(w, "inputBlockedRequests", InputBlockedRequests);
        Number(w, "inputFlaggedRequests", InputFlaggedRequests);
        Number(w, "outputBlockedRequests", OutputBlockedRequests);
        Number(w, "outputRedactedRequests", OutputRedactedRequests);
        Number(w, "extractionScored", ExtractionScored);
        Number(w, "extractionHigh", ExtractionHigh);
        if (ExtractionMax > 0) w.WriteNumber("extractionMax", Math.Round(ExtractionMax, 2));
        Histogram(w, "promptLength", PromptLength);
        Histogram(w, "latency", Latency);
        Types(w, "inputBlocked", InputBlocked);
        Types(w, "inputFlagged", InputFlagged);
        Types(w, "outputRedacted", OutputRedacted);
        Types(w, "outputBlocked", OutputBlocked);
        Types(w, "templates", Templates);
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, long value)
    {
        if (value != 0) w.WriteNumber(name, value);
    }

    private static void Histogram(Utf8JsonWriter w, string name, long[] bins)
    {
        var last = Array.FindLastIndex(bins, b => b != 0);
        if (last < 0) return;
        w.WriteStartArray(name);
        for (var i = 0; i <= last; i++) w.WriteNumberValue(bins[i]);
        w.WriteEndArray();
    }

    private static void Types(Utf8JsonWriter w, string name, Dictionary<string, long> types)
    {
        if (types.Count == 0) return;
        w.WriteStartObject(name);
        foreach (var (k, v) in types) w.WriteNumber(k, v);
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads one row into <paramref name="into"/> (added to what it holds) and returns its header; throws
    /// <see cref="JsonException"/> for a line that is not a whole row (cut short, edited, a field of the wrong kind).
    /// </summary>
    internal static SignalRowHeader Read(ReadOnlySpan<byte> line, SignalCounts into, bool templates = true, bool names = true)
    {
        var r = new Utf8JsonReader(line);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw new JsonException("not a JSON object");
        long at = -1, requests = -1;
        string? alias = null, tier = null, key = null;
        while (true)
        {
            if (!r.Read()) throw new JsonException("the row is cut short");
            if (r.TokenType == JsonTokenType.EndObject) break;
            if (r.TokenType != JsonTokenType.PropertyName) throw new JsonException("expected a field name");
            var name = r.ValueSpan;
            if (!r.Read()) throw new JsonException("the row is cut short");
            if (name.SequenceEqual("at"u8)) at = r.GetInt64();
            else if (name.SequenceEqual("alias"u8)) alias = names ? r.GetString() : Text(ref r);
            else if (name.SequenceEqual("tier"u8)) tier = names ? r.GetString() : Text(ref r);
            else if (name.SequenceEqual("key"u8)) key = r.GetString();
            else if (name.SequenceEqual("requests"u8)) into.Requests += requests = Count(ref r);
            else if (name.SequenceEqual("tokens"u8)) into.Tokens += Count(ref r);
            else if (name.SequenceEqual("latencyMs"u8)) into.LatencyMs += Count(ref r);
            else if (name.SequenceEqual("upstreamErrors"u8)) into.UpstreamErrors += Count(ref r);
            else if (name.SequenceEqual("canaryHits"u8)) into.CanaryHits += Count(ref r);
            else if (name.SequenceEqual("answers"u8)) into.Answers += Count(ref r);
            else if (name.SequenceEqual("refusals"u8)) into.Refusals += Count(ref r);
            else if (name.SequenceEqual("inputBlockedRequests"u8)) into.InputBlockedRequests += Count(ref r);
            else if (name.SequenceEqual("inputFlaggedRequests"u8)) into.InputFlaggedRequests += Count(ref r);
            else if (name.SequenceEqual("outputBlockedRequests"u8)) into.OutputBlockedRequests += Count(ref r);
            else if (name.SequenceEqual("outputRedactedRequests"u8)) into.OutputRedactedRequests += Count(ref r);
            else if (name.SequenceEqual("extractionScored"u8)) into.ExtractionScored += Count(ref r);
            else if (name.SequenceEqual("extractionHigh"u8)) into.ExtractionHigh += Count(ref r);
            else if (name.SequenceEqual("extractionMax"u8)) into.ExtractionMax = Math.Max(into.ExtractionMax, r.GetDouble());
            else if (name.SequenceEqual("promptLength"u8)) ReadHistogram(ref r, into.PromptLength);
            else if (name.SequenceEqual("latency"u8)) ReadHistogram(ref r, into.Latency);
            else if (name.SequenceEqual("inputBlocked"u8)) ReadTypes(ref r, into.InputBlocked);
            else if (name.SequenceEqual("inputFlagged"u8)) ReadTypes(ref r, into.InputFlagged);
            else if (name.SequenceEqual("outputRedacted"u8)) ReadTypes(ref r, into.OutputRedacted);
            else if (name.SequenceEqual("outputBlocked"u8)) ReadTypes(ref r, into.OutputBlocked);
            else if (name.SequenceEqual("templates"u8)) ReadTypes(ref r, templates ? into.Templates : null);
            else r.Skip(); // a field a newer gateway writes
        }

        if (at < 0 || requests < 0 || alias is null || tier is null || key is null) throw new JsonException("the row lacks at, alias, tier, key or requests");
        if (r.Read()) throw new JsonException("text after the row");
        return new SignalRowHeader(at, alias, tier, key);
    }

    // A field that must be text, checked but not kept.
    private static string Text(ref Utf8JsonReader r) => r.TokenType == JsonTokenType.String ? "" : throw new JsonException("expected text");

    private static long Count(ref Utf8JsonReader r)
    {
        var value = r.GetInt64();
        return value >= 0 ? value : throw new JsonException("a count below zero");
    }

    private static void ReadHistogram(ref Utf8JsonReader r, long[] bins)
    {
        if (r.TokenType != JsonTokenType.StartArray) throw new JsonException("a histogram must be an array");
        var i = 0;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (i >= Bins) throw new JsonException("a histogram with too many bins");
            bins[i++] += Count(ref r);
        }

        if (r.TokenType != JsonTokenType.EndArray) throw new JsonException("the row is cut short");
    }

    private static void ReadTypes(ref Utf8JsonReader r, Dictionary<string, long>? into)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw new JsonException("counts by type must be an object");
        Span<char> name = stackalloc char[64];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            // A name seen before is found by its characters, without a new string for it (a reader sums millions of rows).
            var length = into is null || r.ValueIsEscaped || r.ValueSpan.Length > name.Length ? -1 : r.CopyString(name);
            var allocated = into is not null && length < 0 ? r.GetString() : null;
            if (!r.Read()) break;
            var value = Count(ref r);
            if (into is null) continue;
            if (allocated is not null) into[allocated] = into.GetValueOrDefault(allocated) + value;
            else System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(into.GetAlternateLookup<ReadOnlySpan<char>>(), name[..length], out _) += value;
        }

        if (r.TokenType != JsonTokenType.EndObject) throw new JsonException("the row is cut short");
    }
}

/// <summary>A signal row's bucket start (Unix seconds), model alias, tier and key id.</summary>
public readonly record struct SignalRowHeader(long At, string Alias, string Tier, string Key);
