using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Drydock.Detection.Engine;

namespace Drydock.Gateway.Guards;

/// <summary>A run of at least k consecutive word n-grams of one training record in an answer: the record's id and the characters it spans.</summary>
public readonly record struct RegurgitationHit(string Record, int Start, int End, int Grams);

/// <summary>
/// The regurgitation tripwire's index: for every training record, the keyed 64-bit hashes of its word n-grams (no text),
/// in one sorted array beside the record each came from. N-grams shared by more than <c>maxRecordsPerGram</c> records
/// are dropped when it is built — common phrases ("thank you for contacting us") then never count — and so are those a
/// reference text holds (records of the same data never trained on: the held-out split), since an ordinary answer in
/// the data's style holds them too: a template sentence that only a few training records share. An answer is
/// regurgitation when it holds at least <see cref="MinRun"/> consecutive n-grams of one record (n + k − 1 words in a
/// row, the same words in the same order). The index names the model version and datasets it was built for, and is
/// refused for another. Immutable and thread-safe.
/// </summary>
public sealed class RegurgitationIndex
{
    private const uint Magic = 0x32475244; // "DRG2": words read with look-alike letters folded ("DRG1" did not fold them)
    private const uint UnfoldedMagic = 0x31475244; // "DRG1"
    private readonly ulong[] _hashes;
    private readonly int[] _records;
    private readonly string[] _recordIds;
    // Where the entries whose hash starts with each top-bits prefix begin: a lookup reads one slot and a few entries
    // instead of binary-searching the whole array (one or two cache misses per n-gram, not 25).
    private readonly int[] _directory;
    private readonly int _shift;

    private RegurgitationIndex(string modelVersion, IReadOnlyList<string> datasets, int n, int minRun, ulong key, ulong[] hashes, int[] records, string[] recordIds)
    {
        (ModelVersion, Datasets, N, MinRun, Key) = (modelVersion, datasets, n, minRun, key);
        (_hashes, _records, _recordIds) = (hashes, records, recordIds);
        var bits = Math.Clamp((int)Math.Ceiling(Math.Log2(Math.Max(2, hashes.Length))), 4, 26);
        _shift = 64 - bits;
        _directory = new int[(1 << bits) + 1];
        foreach (var h in hashes) _directory[(int)(h >> _shift) + 1]++;
        for (var i = 1; i < _directory.Length; i++) _directory[i] += _directory[i - 1];
    }

    /// <summary>The model version the index was built for.</summary>
    public string ModelVersion { get; }

    /// <summary>The dataset versions its records come from (the model's lineage).</summary>
    public IReadOnlyList<string> Datasets { get; }

    /// <summary>Words per n-gram.</summary>
    public int N { get; }

    /// <summary>The consecutive n-grams of one record that make a hit (k).</summary>
    public int MinRun { get; }

    /// <summary>The hash key (random per index, so hashes of one index do not match another's).</summary>
    public ulong Key { get; }

    /// <summary>How many n-gram entries it holds.</summary>
    public int Count => _hashes.Length;

    /// <summary>How many records it indexes.</summary>
    public int Records => _recordIds.Length;

    /// <summary>
    /// Builds the index of <paramref name="records"/> (id — <c>dataset-version#record-id</c> — and text; the text is
    /// hashed and dropped) with n-grams of <paramref name="n"/> words, hits at <paramref name="minRun"/> consecutive n-grams.
    /// N-grams held by more than <paramref name="maxRecordsPerGram"/> records, or by any text of <paramref name="reference"/>
    /// (records of the same data that were not trained on), are left out.
    /// </summary>
    public static RegurgitationIndex Build(string modelVersion, IReadOnlyList<string> datasets, IEnumerable<(string Id, string Text)> records, int n = 5, int minRun = 4, int maxRecordsPerGram = 4, ulong? key = null, IEnumerable<string>? reference = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (n is < 2 or > 16) throw new ArgumentOutOfRangeException(nameof(n), n, "n-grams of 2 to 16 words");
        if (minRun < 1) throw new ArgumentOutOfRangeException(nameof(minRun), minRun, "at least one n-gram");
        if (maxRecordsPerGram < 1) throw new ArgumentOutOfRangeException(nameof(maxRecordsPerGram), maxRecordsPerGram, "at least one record");
        var k = key ?? BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8));
        var entries = new List<(ulong Hash, int Record)>();
        var ids = new List<string>();
        var seen = new HashSet<ulong>();
        var words = new List<(ulong Hash, int Start, int End)>();
        var ordinary = new HashSet<ulong>();
        foreach (var text in reference ?? [])
        {
            Words(text, k, words);
            for (var i = 0; i + n <= words.Count; i++) ordinary.Add(Gram(words, i, n));
        }

        foreach (var (id, text) in records)
        {
            Words(text, k, words);
            seen.Clear();
            for (var i = 0; i + n <= words.Count; i++)
            {
                var h = Gram(words, i, n);
                if (!ordinary.Contains(h) && seen.Add(h)) entries.Add((h, ids.Count));
            }

            ids.Add(id);
        }

        entries.Sort();
        var hashes = new List<ulong>(entries.Count);
        var owners = new List<int>(entries.Count);
        for (var i = 0; i < entries.Count;)
        {
            var j = i;
            while (j < entries.Count && entries[j].Hash == entries[i].Hash) j++;
            if (j - i <= maxRecordsPerGram)
            {
                for (var m = i; m < j; m++)
                {
                    hashes.Add(entries[m].Hash);
                    owners.Add(entries[m].Record);
                }
            }

            i = j;
        }

        return new RegurgitationIndex(modelVersion, datasets, n, minRun, k, [.. hashes], [.. owners], [.. ids]);
    }

    /// <summary>
    /// The first run of at least <see cref="MinRun"/> consecutive n-grams of one record in <paramref name="text"/>, or
    /// null; the hit spans the whole run (it goes on while the next n-gram is the same record's), so a redaction covers
    /// every repeated word of it.
    /// </summary>
    public RegurgitationHit? Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = t_words ??= new List<(ulong Hash, int Start, int End)>(256);
        Words(text, Key, words);
        var grams = words.Count - N + 1;
        if (grams < MinRun) return null;
        if (t_grams is null || t_grams.Length < grams)
        {
            t_grams = new ulong[Math.Max(grams, 256)];
            t_slots = new int[t_grams.Length];
        }

        // Every run of MinRun consecutive n-grams holds exactly one n-gram at a position that is a multiple of MinRun, and
        // that n-gram is in the index. So when none of those is, there is no hit, and only one n-gram in MinRun was looked
        // up (an answer that repeats nothing: the usual case). Otherwise no run starts before MinRun − 1 positions ahead
        // of the first one found (it would hold an earlier one), and the runs are followed from there: the same hit.
        var first = FirstSampled(words, grams);
        return first < 0 ? null : Runs(words, grams, Math.Max(0, first - MinRun + 1));
    }

    // The first position, among multiples of MinRun, whose n-gram is in the index; or −1. In passes, as Runs reads them.
    private int FirstSampled(List<(ulong Hash, int Start, int End)> words, int grams)
    {
        var count = ((grams - 1) / MinRun) + 1;
        var hashes = t_grams!.AsSpan(0, count);
        var slots = t_slots!.AsSpan(0, count);
        for (var s = 0; s < count; s++) hashes[s] = Gram(words, s * MinRun, N);
        for (var s = 0; s < count; s++) slots[s] = _directory[(int)(hashes[s] >> _shift)];
        for (var s = 0; s < count; s++)
        {
            var h = hashes[s];
            var at = slots[s];
            var end = _directory[(int)(h >> _shift) + 1];
            while (at < end && _hashes[at] < h) at++;
            if (at < end && _hashes[at] == h) return s * MinRun;
        }

        return -1;
    }

    // The runs of consecutive n-grams of one record from position `from` on; the first that reaches MinRun is the hit.
    private RegurgitationHit? Runs(List<(ulong Hash, int Start, int End)> words, int grams, int from)
    {
        // In three passes, so the memory reads of one pass do not wait on each other (the index is far larger than the
        // caches: each n-gram costs a read of the directory and one of the entries, and these overlap): the n-grams'
        // hashes, then where each one's bucket starts, then the entries.
        var hashes = t_grams!.AsSpan(0, grams);
        var slots = t_slots!.AsSpan(0, grams);
        for (var i = from; i < grams; i++) hashes[i] = Gram(words, i, N);
        for (var i = from; i < grams; i++) slots[i] = _directory[(int)(hashes[i] >> _shift)];

        // The records that hold the previous position's n-gram, with the length of the run of consecutive n-grams ending there.
        Span<(int Record, int Run)> previous = stackalloc (int, int)[64];
        Span<(int Record, int Run)> current = stackalloc (int, int)[64];
        var previousCount = 0;
        for (var i = from; i < grams; i++)
        {
            var h = hashes[i];
            var at = slots[i];
            var end = _directory[(int)(h >> _shift) + 1];
            while (at < end && _hashes[at] < h) at++;
            var currentCount = 0;
            if (at < end && _hashes[at] == h)
            {
                for (; at < end && _hashes[at] == h && currentCount < current.Length; at++)
                {
                    var record = _records[at];
                    var run = 1;
                    for (var p = 0; p < previousCount; p++)
                    {
                        if (previous[p].Record == record) run = previous[p].Run + 1;
                    }

                    if (run >= MinRun) return Extend(words, i, record, run);
                    current[currentCount++] = (record, run);
                }
            }

            var swap = previous;
            previous = current;
            current = swap;
            previousCount = currentCount;
        }

        return null;
    }

    // Per-thread buffers of Find (it allocates nothing per call once they have grown to the longest answer seen).
    [ThreadStatic]
    private static List<(ulong Hash, int Start, int End)>? t_words;

    [ThreadStatic]
    private static ulong[]? t_grams;

    [ThreadStatic]
    private static int[]? t_slots;

    // The run of the hit's record goes on past position i while the next n-gram is that record's too.
    private RegurgitationHit Extend(List<(ulong Hash, int Start, int End)> words, int i, int record, int run)
    {
        var start = words[i - run + 1].Start;
        while (i + 1 + N <= words.Count && Holds(Gram(words, i + 1, N), record))
        {
            i++;
            run++;
        }

        return new RegurgitationHit(_recordIds[record], start, words[i + N - 1].End, run);
    }

    /// <summary>
    /// Where the text a stream must still hold back starts: the last n + k − 1 words (a run whose last word has not
    /// arrived yet may begin there), or 0 when the text has fewer.
    /// </summary>
    internal int HoldFrom(string text)
    {
        var i = text.Length;
        for (var words = N + MinRun - 1; words > 0; words--)
        {
            while (i > 0 && !char.IsLetterOrDigit(text[i - 1])) i--;
            if (i == 0) return 0;
            while (i > 0 && char.IsLetterOrDigit(text[i - 1])) i--;
        }

        return i;
    }

    /// <summary>
    /// True when a run that ends at <paramref name="end"/> may still go on as more text arrives: no whole word follows
    /// it yet (the next word is missing or still arriving), so the n-gram that would extend it is not known.
    /// </summary>
    internal static bool MayGoOn(string text, int end)
    {
        var i = end;
        while (i < text.Length && !char.IsLetterOrDigit(text[i])) i++;
        while (i < text.Length && char.IsLetterOrDigit(text[i])) i++;
        return i >= text.Length;
    }

    private bool Holds(ulong h, int record)
    {
        var bucket = (int)(h >> _shift);
        for (var at = _directory[bucket]; at < _directory[bucket + 1] && _hashes[at] <= h; at++)
        {
            if (_hashes[at] == h && _records[at] == record) return true;
        }

        return false;
    }

    /// <summary>Writes the index (header with model version, datasets, n, k and key; record ids; the sorted entries).</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(ModelVersion);
        w.Write(Datasets.Count);
        foreach (var d in Datasets) w.Write(d);
        w.Write(N);
        w.Write(MinRun);
        w.Write(Key);
        w.Write(_recordIds.Length);
        foreach (var id in _recordIds) w.Write(id);
        w.Write(_hashes.Length);
        // The entries are written little-endian whatever the machine, as BinaryWriter writes the header.
        foreach (var h in _hashes) w.Write(h);
        foreach (var rec in _records) w.Write(rec);
    }

    /// <summary>Reads an index and refuses one built for another model version than <paramref name="expectedModelVersion"/>, or a damaged file.</summary>
    public static RegurgitationIndex Load(Stream stream, string expectedModelVersion)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            var magic = r.ReadUInt32();
            if (magic == UnfoldedMagic) throw new InvalidDataException("an index of an earlier format (its words were read without folding look-alike letters): rebuild it");
            if (magic != Magic) throw new InvalidDataException("not a regurgitation index");
            var model = r.ReadString();
            if (!string.Equals(model, expectedModelVersion, StringComparison.Ordinal)) throw new InvalidDataException($"built for model version {model}, not {expectedModelVersion}");
            var datasets = new string[Bounded(r.ReadInt32(), 1 << 16)];
            for (var i = 0; i < datasets.Length; i++) datasets[i] = r.ReadString();
            var (n, minRun, key) = (r.ReadInt32(), r.ReadInt32(), r.ReadUInt64());
            if (n is < 2 or > 16 || minRun < 1) throw new InvalidDataException($"n = {n}, k = {minRun} are out of range");
            // A count is never trusted beyond what the rest of the file can hold (a damaged count field must not make
            // the reader allocate gigabytes): each record id takes at least one byte, each entry twelve.
            var ids = new string[Bounded(r.ReadInt32(), Remaining(stream, 1))];
            for (var i = 0; i < ids.Length; i++) ids[i] = r.ReadString();
            var hashes = new ulong[Bounded(r.ReadInt32(), Remaining(stream, sizeof(ulong) + sizeof(int)))];
            var records = new int[hashes.Length];
            for (var i = 0; i < hashes.Length; i++) hashes[i] = r.ReadUInt64();
            for (var i = 0; i < records.Length; i++) records[i] = r.ReadInt32();
            for (var i = 1; i < hashes.Length; i++)
            {
                if (hashes[i] < hashes[i - 1]) throw new InvalidDataException("entries are not sorted");
            }

            foreach (var record in records)
            {
                if ((uint)record >= (uint)ids.Length) throw new InvalidDataException("an entry names no record");
            }

            if (stream.CanSeek && stream.Position != stream.Length) throw new InvalidDataException("trailing bytes");
            return new RegurgitationIndex(model, datasets, n, minRun, key, hashes, records, ids);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("the index is truncated");
        }
    }

    private static int Remaining(Stream stream, int bytesPerItem) =>
        stream.CanSeek ? (int)Math.Min(int.MaxValue, (stream.Length - stream.Position) / bytesPerItem) : 1 << 26;

    private static int Bounded(int value, int max) => value >= 0 && value <= max ? value : throw new InvalidDataException($"count {value} is out of range");

    // Words are runs of letters and digits, compared case-insensitively with Cyrillic and Greek look-alike letters read as
    // the Latin ones they look like (an answer that repeats a record with а, е, о swapped in is the record); each is
    // hashed (keyed FNV-1a, then mixed).
    private static void Words(string text, ulong key, List<(ulong Hash, int Start, int End)> words)
    {
        words.Clear();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i])) i++;
            if (i >= text.Length) break;
            var start = i;
            var h = 14695981039346656037UL ^ key;
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                h = (h ^ char.ToLowerInvariant(LookAlikes.Latin(text[i]))) * 1099511628211UL;
                i++;
            }

            words.Add((Mix(h), start, i));
        }
    }

    private static ulong Gram(List<(ulong Hash, int Start, int End)> words, int at, int n)
    {
        var h = 0x9E3779B97F4A7C15UL;
        for (var j = 0; j < n; j++) h = Mix(h ^ words[at + j].Hash) + (ulong)j;
        return h;
    }

    // splitmix64's finaliser: every input bit reaches every output bit.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
