namespace Drydock.Detection.Engine;

/// <summary>Shannon entropy of a string, in bits per character.</summary>
public static class Entropy
{
    /// <summary>Bits per character of <paramref name="value"/>.</summary>
    public static double Shannon(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return 0;
        }

        Span<int> ascii = stackalloc int[128];
        Dictionary<char, int>? other = null;
        foreach (var c in value)
        {
            if (c < 128) ascii[c]++;
            else (other ??= [])[c] = other.GetValueOrDefault(c) + 1;
        }

        double total = value.Length, bits = 0;
        foreach (var count in ascii)
        {
            if (count > 0) bits -= count / total * Math.Log2(count / total);
        }

        foreach (var count in other?.Values ?? Enumerable.Empty<int>())
        {
            bits -= count / total * Math.Log2(count / total);
        }

        return bits;
    }
}
