using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Drydock.Datasets.Output;

namespace Drydock.Gateway.Audit;

/// <summary>What the request log keeps of prompt and answer text: nothing (the default), a hash, or the redacted text.</summary>
public enum AuditText
{
    /// <summary>Metadata only.</summary>
    None,
    /// <summary>
    /// HMAC-SHA256 of the text under a key only the gateway holds: proves what was said without keeping it, and cannot
    /// be tested against guesses ("my SSN is …") by whoever reads the log alone.
    /// </summary>
    Hash,
    /// <summary>The text with every finding replaced by its typed placeholder.</summary>
    Redacted,
}

/// <summary>A filter for <see cref="RequestAuditLog.Query"/>.</summary>
public sealed record RequestFilter(string? Key = null, string? Model = null, int? Status = null, DateTimeOffset? Since = null, bool FindingsOnly = false, int Limit = 100);

/// <summary>
/// Files and folders only their owner may read: a folder created 0700 (and one found open to others closed to them),
/// a file created 0600 (likewise). Request lines name keys, models and what was found; nobody else on the host reads them.
/// </summary>
internal static class OwnerOnly
{
    public static void Folder(string path) => OwnerOnlyFolder.Create(path);

    public static FileStream Append(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0 };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var file = new FileStream(path, options);
        if (!OperatingSystem.IsWindows()) OwnerOnlyFolder.Close(path);
        return file;
    }

    /// <summary>
    /// Takes an exclusive lock of the whole file for one append, waiting up to 5 s for another process's (where the
    /// platform has file locks); returns whether it holds it.
    /// </summary>
    public static bool LockForAppend(FileStream file)
    {
        if (OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsMacCatalyst()) return false;
        var deadline = Environment.TickCount64 + 5000;
        while (true)
        {
            try
            {
                file.Lock(0, long.MaxValue);
                return true;
            }
            catch (IOException)
            {
                if (Environment.TickCount64 >= deadline) return false;
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>Releases the lock of <see cref="LockForAppend"/>.</summary>
    public static void Unlock(FileStream file)
    {
        if (OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsMacCatalyst()) return;
        file.Unlock(0, long.MaxValue);
    }
}

/// <summary>
/// The gateway's request log: one JSON line per request (time, key id, tier, model, status, latency, tokens, finding
/// types, decisions, abuse score) in one file per UTC day, <c>requests-YYYY-MM-DD.jsonl</c>; files older than the
/// retention are deleted at start and every hour. Prompt and answer text appear only as the policy says
/// (<see cref="AuditText"/>); raw values never do. Requests hand their line to a queue (bounded: a slow disk slows
/// requests down rather than dropping lines) and one writer serializes whatever is queued and appends it in one
/// write; while busy it gathers for 5 ms between writes, so a busy gateway writes in batches and an idle one at once.
/// </summary>
public sealed class RequestAuditLog : IDisposable
{
    private readonly string _folder;
    private readonly int _retentionDays;
    private readonly byte[] _hashKey;
    private readonly TimeProvider _time;
    private readonly ITimer _purge;
    // A busy writer gathers lines this long before it writes again: one write and one wake-up per batch, not per line.
    private static readonly TimeSpan s_batch = TimeSpan.FromMilliseconds(5);
    private static readonly JsonWriterOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Channel<(DateTimeOffset At, JsonObject Line)> _queue = Channel.CreateBounded<(DateTimeOffset, JsonObject)>(new BoundedChannelOptions(65_536) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Task _drain;
    private readonly System.Buffers.ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private Utf8JsonWriter? _writer;
    private FileStream? _file;
    private string? _day;
    private long _queued;
    private long _written;

    /// <summary>
    /// Opens the log in <paramref name="folder"/> and purges what is past retention; <paramref name="hashKey"/> keys the
    /// text hashes of <see cref="AuditText.Hash"/>. <paramref name="time"/> (the system's unless given) stamps each line,
    /// names its day file and decides the retention, at start and every hour.
    /// </summary>
    public RequestAuditLog(string folder, int retentionDays, AuditText text, byte[] hashKey, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(hashKey);
        _folder = folder;
        _retentionDays = retentionDays;
        _hashKey = hashKey;
        _time = time ?? TimeProvider.System;
        Text = text;
        OwnerOnly.Folder(folder);
        _purge = _time.CreateTimer(_ => Purge(_time.GetUtcNow()), null, TimeSpan.Zero, TimeSpan.FromHours(1));
        _drain = Task.Run(Drain);
    }

    /// <summary>What is kept of the text.</summary>
    public AuditText Text { get; }

    /// <summary>The text as the policy keeps it (null for <see cref="AuditText.None"/>).</summary>
    public string? Keep(string text, Func<string, string> redact) => Text switch
    {
        AuditText.Hash => "hmac-sha256:" + Convert.ToHexStringLower(HMACSHA256.HashData(_hashKey, Encoding.UTF8.GetBytes(text))),
        AuditText.Redacted => redact(text),
        _ => null,
    };

    /// <summary>Queues one request's line; the log owns <paramref name="line"/> from here on (it is written later).</summary>
    public ValueTask WriteAsync(JsonObject line)
    {
        ArgumentNullException.ThrowIfNull(line);
        Interlocked.Increment(ref _queued);
        return _queue.Writer.WriteAsync((_time.GetUtcNow(), line));
    }

    /// <summary>Waits until every line queued so far is on disk.</summary>
    public async Task FlushAsync()
    {
        var target = Interlocked.Read(ref _queued);
        while (Interlocked.Read(ref _written) < target && !_drain.IsCompleted) await Task.Delay(2).ConfigureAwait(false);
    }

    // The one writer: serializes each queued line into the day's file, flushes the batch, and waits a moment while busy.
    private async Task Drain()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var count = 0;
            _writer ??= new Utf8JsonWriter(_batch, s_json);
            while (reader.TryRead(out var item))
            {
                var day = item.At.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                if (_day != day)
                {
                    WriteBatch();
                    _file?.Dispose();
                    _file = OwnerOnly.Append(Path.Combine(_folder, $"requests-{day}.jsonl"));
                    _day = day;
                }

                item.Line["at"] = item.At.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
                item.Line.WriteTo(_writer);
                _writer.Flush();
                _writer.Reset();
                "\n"u8.CopyTo(_batch.GetSpan(1));
                _batch.Advance(1);
                count++;
            }

            WriteBatch();
            Interlocked.Add(ref _written, count);
            if (count > 1) await Task.Delay(s_batch).ConfigureAwait(false);
        }
    }

    // The gathered lines to the day's file in one write, at its end as it is now: under an exclusive lock of the file,
    // since another gateway on the same project may append to it too (a stream in append mode writes at the end it saw
    // when opened, and two processes would write over each other's lines).
    private void WriteBatch()
    {
        if (_batch.WrittenCount == 0) return;
        var locked = OwnerOnly.LockForAppend(_file!);
        try
        {
            _file!.Seek(0, SeekOrigin.End);
            _file.Write(_batch.WrittenSpan);
        }
        finally
        {
            if (locked) OwnerOnly.Unlock(_file!);
        }

        _batch.ResetWrittenCount();
    }

    /// <summary>Deletes day files older than the retention; returns how many.</summary>
    public int Purge(DateTimeOffset now) => Purge(_folder, _retentionDays, now);

    /// <summary>
    /// Deletes day files in <paramref name="folder"/> older than <paramref name="retentionDays"/>: the request log's and
    /// the signal log's (which keeps the same retention), so old signal files go even when the gateway keeps none now.
    /// </summary>
    public static int Purge(string folder, int retentionDays, DateTimeOffset now)
    {
        var oldest = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-retentionDays + 1);
        var deleted = 0;
        foreach (var (file, day) in Days(folder).Concat(Monitoring.SignalRecorder.Files(folder)).ToList())
        {
            if (day >= oldest) continue;
            File.Delete(file);
            deleted++;
        }

        return deleted;
    }

    /// <summary>Reads request lines matching <paramref name="filter"/>, newest last (at most <c>Limit</c>, the newest).</summary>
    public static IReadOnlyList<JsonObject> Query(string folder, RequestFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var result = new Queue<JsonObject>();
        foreach (var (file, day) in Days(folder).OrderBy(d => d.Day))
        {
            if (filter.Since is { } since && day < DateOnly.FromDateTime(since.UtcDateTime)) continue;
            using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            while (reader.ReadLine() is { } text)
            {
                JsonObject line;
                try
                {
                    if (JsonNode.Parse(text) is not JsonObject o) continue;
                    line = o;
                }
                catch (JsonException)
                {
                    continue; // a line cut short by a crash
                }

                if (!Matches(line, filter)) continue;
                result.Enqueue(line);
                if (result.Count > filter.Limit) result.Dequeue();
            }
        }

        return [.. result];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _purge.Dispose();
        _queue.Writer.TryComplete();
        _drain.GetAwaiter().GetResult();
        _writer?.Dispose();
        _file?.Dispose();
    }

    private static bool Matches(JsonObject line, RequestFilter filter)
    {
        string? S(string name) => line[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (filter.Key is not null && S("key") != filter.Key) return false;
        if (filter.Model is not null && S("model") != filter.Model) return false;
        if (filter.Status is { } status && !(line["status"] is JsonValue sv && sv.TryGetValue<int>(out var st) && st == status)) return false;
        if (filter.Since is { } since && !(DateTimeOffset.TryParse(S("at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at >= since)) return false;
        return !filter.FindingsOnly || !string.IsNullOrEmpty(S("inputFindings")) || !string.IsNullOrEmpty(S("outputFindings"));
    }

    private static IEnumerable<(string File, DateOnly Day)> Days(string folder)
    {
        if (!Directory.Exists(folder)) yield break;
        foreach (var file in Directory.EnumerateFiles(folder, "requests-*.jsonl"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (DateOnly.TryParseExact(name["requests-".Length..], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)) yield return (file, day);
        }
    }
}
