using System.Buffers.Text;
using System.IO.Hashing;
using System.Text;

namespace Drydock.Detection.Validation;

/// <summary>Check digits and checksums used by the built-in rules.</summary>
public static class Checksums
{
    /// <summary>Luhn (mod 10) over the digits of <paramref name="value"/>, ignoring spaces and dashes.</summary>
    public static bool Luhn(ReadOnlySpan<char> value)
    {
        int sum = 0, count = 0;
        var doubleIt = false;
        for (var i = value.Length - 1; i >= 0; i--)
        {
            var c = value[i];
            if (c is ' ' or '-') continue;
            if (!char.IsAsciiDigit(c)) return false;
            var d = c - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }

            sum += d;
            count++;
            doubleIt = !doubleIt;
        }

        return count > 1 && sum % 10 == 0;
    }

    /// <summary>The digits of <paramref name="value"/> only.</summary>
    public static string DigitsOnly(ReadOnlySpan<char> value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c)) builder.Append(c);
        }

        return builder.ToString();
    }

    private static readonly Dictionary<string, int> s_ibanLengths = new(StringComparer.Ordinal)
    {
        ["AD"] = 24, ["AE"] = 23, ["AL"] = 28, ["AT"] = 20, ["AZ"] = 28, ["BA"] = 20, ["BE"] = 16, ["BG"] = 22, ["BH"] = 22,
        ["BR"] = 29, ["BY"] = 28, ["CH"] = 21, ["CR"] = 22, ["CY"] = 28, ["CZ"] = 24, ["DE"] = 22, ["DK"] = 18, ["DO"] = 28,
        ["EE"] = 20, ["EG"] = 29, ["ES"] = 24, ["FI"] = 18, ["FO"] = 18, ["FR"] = 27, ["GB"] = 22, ["GE"] = 22, ["GI"] = 23,
        ["GL"] = 18, ["GR"] = 27, ["GT"] = 28, ["HR"] = 21, ["HU"] = 28, ["IE"] = 22, ["IL"] = 23, ["IQ"] = 23, ["IS"] = 26,
        ["IT"] = 27, ["JO"] = 30, ["KW"] = 30, ["KZ"] = 20, ["LB"] = 28, ["LC"] = 32, ["LI"] = 21, ["LT"] = 20, ["LU"] = 20,
        ["LV"] = 21, ["MC"] = 27, ["MD"] = 24, ["ME"] = 22, ["MK"] = 19, ["MR"] = 27, ["MT"] = 31, ["MU"] = 30, ["NL"] = 18,
        ["NO"] = 15, ["PK"] = 24, ["PL"] = 28, ["PS"] = 29, ["PT"] = 25, ["QA"] = 29, ["RO"] = 24, ["RS"] = 22, ["SA"] = 24,
        ["SC"] = 31, ["SE"] = 24, ["SI"] = 19, ["SK"] = 24, ["SM"] = 27, ["ST"] = 25, ["SV"] = 28, ["TL"] = 23, ["TN"] = 24,
        ["TR"] = 26, ["UA"] = 29, ["VA"] = 22, ["VG"] = 24, ["XK"] = 20,
    };

    /// <summary>IBAN: known country, that country's length and ISO 7064 mod 97-10 (spaces ignored).</summary>
    public static bool Iban(ReadOnlySpan<char> value)
    {
        Span<char> compact = stackalloc char[40];
        var n = 0;
        foreach (var c in value)
        {
            if (c == ' ') continue;
            if (n == compact.Length || !char.IsAsciiLetterOrDigit(c)) return false;
            compact[n++] = char.ToUpperInvariant(c);
        }

        if (n < 15 || !s_ibanLengths.TryGetValue(new string(compact[..2]), out var expected) || expected != n)
        {
            return false;
        }

        var remainder = 0;
        for (var k = 0; k < n; k++)
        {
            var c = compact[(k + 4) % n];
            if (char.IsAsciiDigit(c))
            {
                remainder = (remainder * 10 + (c - '0')) % 97;
            }
            else
            {
                var v = c - 'A' + 10;
                remainder = (remainder * 100 + v) % 97;
            }
        }

        return remainder == 1;
    }

    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>Base62 of a CRC-32, left-padded with zeros to six characters (GitHub and npm token checksums).</summary>
    public static string Crc32Base62(ReadOnlySpan<char> ascii)
    {
        Span<byte> bytes = stackalloc byte[ascii.Length];
        for (var i = 0; i < ascii.Length; i++) bytes[i] = (byte)ascii[i];
        var crc = Crc32.HashToUInt32(bytes);
        Span<char> digits = stackalloc char[6];
        digits.Fill('0');
        var k = 5;
        while (crc > 0 && k >= 0)
        {
            digits[k--] = Base62[(int)(crc % 62)];
            crc /= 62;
        }

        return new string(digits);
    }

    /// <summary>
    /// True when the last six characters of a prefixed token (<c>ghp_</c> + 30 + 6) are the base62 CRC-32
    /// of the 30 characters before them.
    /// </summary>
    public static bool GitHubTokenChecksum(ReadOnlySpan<char> token)
    {
        var underscore = token.IndexOf('_');
        if (underscore < 0 || token.Length - underscore - 1 < 7) return false;
        var body = token[(underscore + 1)..];
        var entropy = body[..^6];
        var checksum = body[^6..];
        return checksum.SequenceEqual(Crc32Base62(entropy));
    }

    /// <summary>US SSN: area not 000, 666 or 900–999; group not 00; serial not 0000; not a published sample.</summary>
    public static bool UsSsn(ReadOnlySpan<char> value)
    {
        var digits = DigitsOnly(value);
        if (digits.Length != 9) return false;
        var area = int.Parse(digits.AsSpan(0, 3), provider: null);
        var group = int.Parse(digits.AsSpan(3, 2), provider: null);
        var serial = int.Parse(digits.AsSpan(5, 4), provider: null);
        if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return false;
        return digits is not ("078051120" or "219099999" or "123456789");
    }

    /// <summary>UK National Insurance number prefix rules.</summary>
    public static bool UkNino(ReadOnlySpan<char> value)
    {
        Span<char> c = stackalloc char[9];
        var n = 0;
        foreach (var ch in value)
        {
            if (ch == ' ') continue;
            if (n == 9) return false;
            c[n++] = char.ToUpperInvariant(ch);
        }

        if (n != 9) return false;
        var prefix = new string(c[..2]);
        if ("DFIQUV".Contains(c[0], StringComparison.Ordinal) || "DFIQUVO".Contains(c[1], StringComparison.Ordinal)) return false;
        return prefix is not ("BG" or "GB" or "NK" or "KN" or "TN" or "NT" or "ZZ");
    }

    /// <summary>A JWT whose header decodes to JSON naming an <c>alg</c>.</summary>
    public static bool JwtHeader(ReadOnlySpan<char> token)
    {
        var dot = token.IndexOf('.');
        if (dot <= 0) return false;
        var header = token[..dot];
        Span<byte> utf8 = stackalloc byte[header.Length];
        for (var i = 0; i < header.Length; i++) utf8[i] = (byte)header[i];
        Span<byte> decoded = stackalloc byte[Base64Url.GetMaxDecodedLength(header.Length)];
        if (Base64Url.DecodeFromUtf8(utf8, decoded, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        var json = Encoding.UTF8.GetString(decoded[..written]);
        return json.StartsWith('{') && json.Contains("\"alg\"", StringComparison.Ordinal);
    }

    private static readonly int[,] s_verhoeffD =
    {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 }, { 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 },
        { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 }, { 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
        { 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 }, { 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 },
        { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
    };

    private static readonly int[,] s_verhoeffP =
    {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 }, { 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 },
        { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 }, { 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
        { 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 },
    };

    /// <summary>Verhoeff check digit (India's Aadhaar).</summary>
    public static bool Verhoeff(ReadOnlySpan<char> value)
    {
        var digits = DigitsOnly(value);
        var c = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            c = s_verhoeffD[c, s_verhoeffP[i % 8, d]];
        }

        return digits.Length > 1 && c == 0;
    }

    /// <summary>Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter) check letter.</summary>
    public static bool SpanishDni(ReadOnlySpan<char> value)
    {
        const string letters = "TRWAGMYFPDXBNJZSQVHLCKE";
        var v = value.ToString().ToUpperInvariant().Replace("-", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        if (v.Length != 9) return false;
        var numberText = v[0] switch { 'X' => "0" + v[1..8], 'Y' => "1" + v[1..8], 'Z' => "2" + v[1..8], _ => v[..8] };
        if (!int.TryParse(numberText, out var number)) return false;
        return letters[number % 23] == v[8];
    }

    /// <summary>Italian codice fiscale check character.</summary>
    public static bool ItalianFiscalCode(ReadOnlySpan<char> value)
    {
        if (value.Length != 16) return false;
        int[] odd = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
        var sum = 0;
        for (var i = 0; i < 15; i++)
        {
            var c = char.ToUpperInvariant(value[i]);
            var k = char.IsAsciiDigit(c) ? c - '0' : c - 'A';
            if (k is < 0 or > 25) return false;
            sum += i % 2 == 0 ? odd[k] : k;
        }

        return char.ToUpperInvariant(value[15]) == (char)('A' + sum % 26);
    }
}
