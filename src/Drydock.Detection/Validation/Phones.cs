using System.Buffers;
using PhoneNumbers;

namespace Drydock.Detection.Validation;

/// <summary>Phone candidates checked with libphonenumber, so that order numbers and dates are not reported.</summary>
internal static class Phones
{
    private static readonly PhoneNumberUtil s_util = PhoneNumberUtil.GetInstance();
    private static readonly SearchValues<char> s_shape = SearchValues.Create("( -.");
    private static readonly SearchValues<char> s_notDotted = SearchValues.Create("-/ ()+");
    private static readonly SearchValues<char> s_extension = SearchValues.Create("xe");

    // National numbers with a trunk prefix '0', and the regions tried for them.
    private static readonly string[] s_trunkZeroRegions = ["GB", "DE", "FR", "IT", "NL", "AU", "IN", "BR", "JP"];

    // Words that name the number right after them as a phone ("call me back on (389) 641-2290"). With one of them
    // there, a North American number needs only a possible shape: area codes are opened every year, and people
    // write their number as it is, whether or not the copy of libphonenumber's metadata knows the code yet.
    private static readonly string[] s_phoneWords =
        ["call", "called", "calling", "phone", "telephone", "tel", "mobile", "cell", "cellphone", "ring", "text me", "whatsapp", "fax", "sms", "reach me", "reach us"];

    // How far before the number a phone word may stand.
    private const int PhoneWordWindow = 32;

    public static double Validate(string value, string text, int start)
    {
        // An extension ("x204", "ext. 12") is part of the finding but not of the number validated.
        var extension = value.AsSpan().IndexOfAny(s_extension);
        if (extension > 0)
        {
            value = value[..extension].TrimEnd();
        }

        var digits = Checksums.DigitsOnly(value);
        if (digits.Length is < 7 or > 15 || LooksLikeDate(value) || LooksLikeDottedNumber(value))
        {
            return 0;
        }

        if (value.StartsWith('+') || value.StartsWith("00", StringComparison.Ordinal))
        {
            var international = value.StartsWith('+') ? digits : digits[2..];
            // "00" also starts account and reference numbers ("Account no 0044 1234 5678 90"); "+" starts only phones,
            // so a negative word naming a "00" number drops it.
            if (IsValid("+" + international, "ZZ")) return value.StartsWith('+') ? 0.9 : 0.75;
            return international.Length == 11 && international[0] == '1' && PossibleNorthAmerican(international[1..]) && PhoneWordBefore(text, start) ? 0.6 : 0;
        }

        // A national number without a country code is ambiguous: without separators or a context word it is
        // as likely an order number. Separators or parentheses make a phone far more likely.
        var hasShape = value.AsSpan().IndexOfAny(s_shape) >= 0;
        if (!hasShape || digits.Length < 9)
        {
            return 0;
        }

        // Only the regions whose national numbers have this shape are tried (libphonenumber throws on
        // hopeless input, and exceptions are costly on a hot path).
        var found = digits[0] switch
        {
            '0' => s_trunkZeroRegions.Any(region => IsValid(digits, region)),
            '1' when digits.Length == 11 => IsValid(digits, "US"),
            _ when digits.Length == 10 => IsValid(digits, "US"),
            _ when digits.Length == 9 => IsValid(digits, "ES"),
            _ => false,
        };
        if (!found)
        {
            // Not valid, but shaped like a North American number and named a phone by the word before it.
            var national = digits.Length == 11 && digits[0] == '1' ? digits[1..] : digits;
            return national.Length == 10 && PossibleNorthAmerican(national) && PhoneWordBefore(text, start) ? 0.6 : 0;
        }

        // A parenthesized area code, "(212) 555-0187", is how phone numbers are written and order numbers are not.
        return value.StartsWith('(') && digits.Length >= 10 ? 0.85 : digits.Length >= 10 ? 0.7 : 0.5;
    }

    // A possible North American number: ten digits NXX NXX XXXX, neither the area code nor the exchange an N11 service
    // code, and not the fiction and placeholder area code 555 ("(555) 123-4567").
    private static bool PossibleNorthAmerican(string national)
    {
        if (national.Length != 10 || national[0] < '2' || national[3] < '2') return false;
        if (national.AsSpan(1, 2).SequenceEqual("11") || national.AsSpan(4, 2).SequenceEqual("11") || national.StartsWith("555", StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            return s_util.IsPossibleNumber(s_util.Parse(national, "US"));
        }
        catch (NumberParseException)
        {
            return false;
        }
    }

    // Whether a phone word stands, as a whole word, in the few characters before the number with no other digit between
    // them: "call me back on (389) 641-2290", not "call about case 12: 389-641-2290" nor "recall 389-641-2290".
    private static bool PhoneWordBefore(string text, int start)
    {
        var from = Math.Max(0, start - PhoneWordWindow);
        var before = text.AsSpan(from, start - from);
        foreach (var word in s_phoneWords)
        {
            var offset = 0;
            while (offset < before.Length)
            {
                var at = before[offset..].IndexOf(word, StringComparison.OrdinalIgnoreCase);
                if (at < 0) break;
                at += offset;
                var end = at + word.Length;
                var whole = (at == 0 ? from == 0 || !char.IsLetter(text[from - 1]) : !char.IsLetter(before[at - 1]))
                    && (end == before.Length || !char.IsLetter(before[end]));
                if (whole && !before[end..].ContainsAnyInRange('0', '9')) return true;
                offset = at + 1;
            }
        }

        return false;
    }

    private static bool IsValid(string number, string region)
    {
        try
        {
            return s_util.IsValidNumber(s_util.Parse(number, region));
        }
        catch (NumberParseException)
        {
            return false;
        }
    }

    // Three groups shaped like a date: 2024-01-15, 15.01.2024, 1/5/2024.
    private static bool LooksLikeDate(ReadOnlySpan<char> value)
    {
        Span<int> lengths = stackalloc int[4];
        var groups = Groups(value, "-./ ", lengths);
        return groups == 3 && lengths[..3] switch
        {
            [4, 2, 2] or [2, 2, 4] or [1, 2, 4] or [2, 1, 4] or [1, 1, 4] => true,
            _ => false,
        };
    }

    // IPv4 addresses and version numbers: three or more dot-separated groups of one to three digits.
    private static bool LooksLikeDottedNumber(ReadOnlySpan<char> value)
    {
        if (value.IndexOfAny(s_notDotted) >= 0) return false;
        Span<int> lengths = stackalloc int[16];
        var groups = Groups(value, ".", lengths);
        if (groups < 3 || groups > lengths.Length) return false;
        foreach (var length in lengths[..groups])
        {
            if (length is < 1 or > 3) return false;
        }

        return true;
    }

    private static int Groups(ReadOnlySpan<char> value, ReadOnlySpan<char> separators, Span<int> lengths)
    {
        var count = 0;
        var current = 0;
        foreach (var c in value)
        {
            if (separators.Contains(c))
            {
                if (current == 0) continue;
                if (count < lengths.Length) lengths[count] = current;
                count++;
                current = 0;
            }
            else
            {
                current++;
            }
        }

        if (current > 0)
        {
            if (count < lengths.Length) lengths[count] = current;
            count++;
        }

        return count;
    }
}
