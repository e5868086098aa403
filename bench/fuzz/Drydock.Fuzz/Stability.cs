using System.Globalization;
using System.Runtime.InteropServices;
using SharpFuzz.Common;

namespace Drydock.Fuzz;

/// <summary>
/// Why a target is unstable (AFL's "stability": the share of edges an input hits the same way each time it runs).
/// Runs the inputs round after round in one process, as AFL's persistent mode does (other inputs run between two runs
/// of one), against the instrumented assemblies (run it from <c>bench/out/fuzz/inst/</c>; the uninstrumented build
/// records nothing), and prints, for each input, how many edges' hit counts (in AFL's buckets) changed from one round
/// to the next. The first round also pays for first uses (static fields, buffers); a change in later rounds is state
/// that one run leaves to another: a cache, a memo, a buffer that grew.
/// </summary>
internal static unsafe class Stability
{
    private const int MapSize = 1 << 16;

    private static byte* s_map;

    /// <summary>Gives the instrumented code a coverage map of its own (outside AFL it has none and would fault).</summary>
    public static void MapCoverage() => Trace.SharedMem = s_map = (byte*)NativeMemory.AllocZeroed(MapSize);

    public static int Run(string name, Action<byte[]> target, IEnumerable<string> files, int rounds)
    {
        var inputs = files.Select(f => (Name: Path.GetFileName(f), Data: File.ReadAllBytes(f))).ToList();
        var maps = inputs.Select(_ => new List<byte[]>()).ToList();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                new Span<byte>(s_map, MapSize).Clear();
                Trace.PrevLocation = 0;
                try
                {
                    target(inputs[i].Data);
                }
                catch (Exception e)
                {
                    if (round == 0) Console.Error.WriteLine($"{inputs[i].Name}: {e.GetType().Name}");
                }

                maps[i].Add(Bucketed(new ReadOnlySpan<byte>(s_map, MapSize)));
            }
        }

        var unstable = 0;
        var recorded = false;
        for (var i = 0; i < inputs.Count; i++)
        {
            var later = new HashSet<int>();
            var steps = new List<string>();
            for (var r = 1; r < rounds; r++)
            {
                var changed = 0;
                for (var e = 0; e < MapSize; e++)
                {
                    if (maps[i][r][e] == maps[i][r - 1][e]) continue;
                    changed++;
                    if (r > 1) later.Add(e);
                }

                steps.Add(changed.ToString(CultureInfo.InvariantCulture));
            }

            var edges = maps[i][^1].Count(b => b != 0);
            recorded |= edges > 0;
            if (later.Count > 0) unstable++;
            Console.WriteLine($"{name}: {inputs[i].Name}: {edges} edges; changed from round to round: {string.Join(" ", steps)}");
        }

        if (!recorded) Console.Error.WriteLine("no edge recorded: run this from the instrumented copy (bench/out/fuzz/inst/)");
        Console.WriteLine($"{name}: {unstable} of {inputs.Count} inputs change after the first round");
        return unstable == 0 ? 0 : 1;
    }

    // AFL compares hit counts in buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+.
    private static byte[] Bucketed(ReadOnlySpan<byte> map)
    {
        var result = new byte[map.Length];
        for (var i = 0; i < map.Length; i++)
        {
            result[i] = map[i] switch
            {
                0 => 0,
                1 => 1,
                2 => 2,
                3 => 4,
                <= 7 => 8,
                <= 15 => 16,
                <= 31 => 32,
                <= 127 => 64,
                _ => 128,
            };
        }

        return result;
    }
}
