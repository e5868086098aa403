using PhoneNumbers;

namespace Drydock.Detection.Validation;

/// <summary>Phone candidates checked with libphonenumber, so that order numbers and dates are not reported.</summary>
internal static class Phones
{
    private static readonly PhoneNumberUtil s_util = PhoneNumberUtil.GetInstance();
    private static readonly string[] s_regions = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "AU", "CA", "BR", "JP"];

    public static double Validate(string value, string text, int start)
    {
        var digits = Checksums.DigitsOnly(value);
        if (digits.Length is < 7 or > 15 || LooksLikeDate(value) || LooksLikeDottedNumber(value))
        {
            return 0;
        }

        var candidate = value.StartsWith("00", StringComparison.Ordinal) ? "+" + value[2..] : value;
        if (candidate.StartsWith('+'))
        {
            return IsValid(candidate, "ZZ") ? 0.9 : 0;
        }

        // A national number without a country code is ambiguous: without separators or a context word it is
        // as likely an order number. Separators or parentheses make a phone far more likely.
        var hasShape = value.Contains('(', StringComparison.Ordinal) || value.Contains(' ', StringComparison.Ordinal) ||
                       value.Contains('-', StringComparison.Ordinal) || value.Contains('.', StringComparison.Ordinal);
        if (!hasShape || digits.Length < 9)
        {
            return 0;
        }

        foreach (var region in s_regions)
        {
            if (IsValid(candidate, region))
            {
                return digits.Length >= 10 ? 0.7 : 0.5;
            }
        }

        return 0;
    }

    private static bool IsValid(string text, string region)
    {
        try
        {
            var number = s_util.Parse(text, region);
            return s_util.IsValidNumber(number);
        }
        catch (NumberParseException)
        {
            return false;
        }
    }

    private static bool LooksLikeDate(string value)
    {
        var parts = value.Split(['-', '.', '/', ' '], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3) return false;
        var lengths = parts.Select(p => p.Length).ToArray();
        return lengths is [4, 2, 2] or [2, 2, 4] or [1, 2, 4] or [2, 1, 4] or [1, 1, 4];
    }

    private static bool LooksLikeDottedNumber(string value)
    {
        // IPv4 addresses and version numbers: dot-separated groups of at most three digits.
        var parts = value.Split('.');
        return parts.Length >= 3 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit));
    }
}
