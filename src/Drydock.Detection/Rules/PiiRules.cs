using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Drydock.Detection.Engine;
using Drydock.Detection.Validation;

namespace Drydock.Detection.Rules;

/// <summary>Built-in personal-data rules (category <c>pii</c>). Examples are synthetic.</summary>
internal static partial class PiiRules
{
    private static Rule Pii(string id, string type, string description, Regex pattern, string[] examples, string[] counterExamples,
        Severity severity = Severity.High, string[]? keywords = null, Func<TextProfile, bool>? gate = null, double confidence = 0.9,
        CandidateValidator? validator = null, string[]? context = null, string[]? negativeContext = null, bool requiresContext = false,
        int windowBefore = 8, int windowAfter = 256, int priority = 10, int contextWindow = 48, double minConfidence = 0.3,
        bool keywordsEnableWholeText = false, bool caseSensitive = false, Func<string, int, bool>? keywordHitFilter = null) =>
        CatalogueRule.Create(Categories.Pii, id, type, description, pattern, keywords ?? [], examples, counterExamples, severity, confidence,
            windowBefore, windowAfter, show: false, validator, caseSensitive, gate, context, negativeContext, requiresContext, priority, contextWindow,
            minConfidence, keywordsEnableWholeText, keywordHitFilter);

    public static IEnumerable<Rule> All()
    {
        yield return Pii("DD-PII-001", "email", "Email address", Email(),
            ["write to jane.doe@acme-mail.com today", "Contact: o'brien+billing@mail.northwind.co.uk"],
            ["user@example.com", "logo@2x.png", "git@github.com:org/repo.git", "@mention only", "a@b", "https://deploy:s3cr3tPass@git.acme.io/x"],
            severity: Severity.Medium, keywords: ["@"], windowBefore: 64, windowAfter: 260, confidence: 0.95, validator: EmailCheck);
        yield return Pii("DD-PII-002", "phone-number", "Phone number (validated with libphonenumber)", Phone(),
            ["call me on +44 20 7946 0321", "phone: (415) 555-2671", "Tel. 030 90182045", "Mobil: +49 151 23456789", "office (212) 555-0187 x204",
             "Re ticket 4821: the ticket office is (212) 555-0187", "Best number for my refund: 415-555-2671",
             "reach me on +91 9988776655", "WhatsApp: +91-9988776655", "call me back on (389) 641-2290"],
            ["order 2024-01-15", "case (389) 641-2290 is closed", "version 10.2.33.4", "id 1234 5678", "ISBN 978-3-16-148410-0", "Invoice number: 2024 1033 0045", "tracking number 415 555 2671"],
            severity: Severity.Medium, gate: t => t.LongestShapedNumber >= 7, confidence: 0.8, validator: Phones.Validate,
            context: ["phone", "tel", "call", "mobile", "mobil", "cell", "whatsapp", "fax", "ring", "téléphone", "telefon", "telefono", "sms", "text me"],
            negativeContext: ["order", "invoice", "tracking", "isbn", "serial", "account no", "ref", "ticket", "sku", "part no"], minConfidence: 0.5);
        yield return Pii("DD-PII-003", "credit-card", "Payment card number (Luhn and issuer prefix)", Card(),
            ["card 4539 1488 0343 6467 exp 04/27", "amex 3714-496353-98431", "5425233430109903"],
            ["4539 1488 0343 6468", "order 1234567812345678", "1111 2222 3333 4444"],
            severity: Severity.Critical, gate: t => t.LongestNumber >= 13, confidence: 0.85, validator: CardCheck, priority: 20,
            context: ["card", "visa", "mastercard", "amex", "credit", "debit", "payment", "cc", "expiry", "cvv"],
            negativeContext: ["order", "tracking", "invoice", "isbn"]);
        yield return Pii("DD-PII-004", "iban", "International bank account number (mod 97)", Iban(),
            ["IBAN: DE89 3704 0044 0532 0130 00", "pay to GB29NWBK60161331926819"],
            ["DE89 3704 0044 0532 0130 01", "XX12 3456 7890 1234"],
            severity: Severity.High, gate: t => t.LongestNumber >= 10, confidence: 0.95, priority: 20, validator: (v, _, _) => Checksums.Iban(v) ? 0.95 : 0);
        yield return Pii("DD-PII-005", "us-ssn", "US social security number", Ssn(),
            ["SSN 536-90-4399", "my social is 536 90 4399"], ["000-12-3456", "666-45-6789", "123-45-6789", "phone 415-555-0132"],
            severity: Severity.Critical, gate: t => t.LongestNumber >= 9, confidence: 0.8, priority: 20, validator: (v, _, _) => Checksums.UsSsn(v) ? 0.8 : 0,
            context: ["ssn", "social security", "social sec", "ss#", "taxpayer"]);
        yield return Pii("DD-PII-006", "us-ssn", "US social security number without separators, next to 'SSN'", SsnBare(),
            ["SSN: 536904399"], ["SSN: 000904399", "536904399"], severity: Severity.Critical, keywords: ["ssn", "social security"],
            windowBefore: 0, windowAfter: 40, confidence: 0.85, priority: 20, validator: (v, _, _) => Checksums.UsSsn(v) ? 0.85 : 0);
        yield return Pii("DD-PII-007", "ipv4", "IPv4 address", IPv4(),
            ["from 81.2.69.142 at noon", "server 10.20.30.40 is down"],
            ["127.0.0.1", "version 1.2.3.4", "0.0.0.0", "192.0.2.15 (documentation range)", "1.2.3.4.5"],
            severity: Severity.Low, gate: t => t.HasDot && t.LongestNumber >= 4, confidence: 0.85, validator: IPv4Check);
        yield return Pii("DD-PII-008", "ipv6", "IPv6 address", IPv6(),
            ["client 2001:4860:4860::8888 connected", "fe80::1ff:fe23:4567:890a%eth0"],
            ["std::vector", "::1", "12:30:45", "2001:db8::1"],
            severity: Severity.Low, keywords: [":"], caseSensitive: true, windowBefore: 40, windowAfter: 44, confidence: 0.85, validator: IPv6Check,
            keywordHitFilter: (text, i) => (i > 0 && IsHexOrColon(text[i - 1])) && (i + 1 < text.Length && IsHexOrColon(text[i + 1])));
        yield return Pii("DD-PII-009", "street-address", "US street address", UsAddress(),
            ["ship to 1600 Amphitheatre Parkway, Mountain View, CA 94043", "I live at 221 Baker Street.", "deliver to 42 Elm Ave Apt 3", "350 Fifth Avenue"],
            ["page 42 Main points", "Released 2021 Ford Focus", "revenue grew 12 Percent in Q3"],
            severity: Severity.Medium, keywords: s_streetWords, caseSensitive: true, keywordsEnableWholeText: true, confidence: 0.8,
            context: ["address", "live at", "ship to", "deliver", "located at", "mail to", "residence"]);
        yield return Pii("DD-PII-010", "street-address", "UK street address with postcode", UkAddress(),
            ["10 Downing Street, London SW1A 2AA", "Flat 3, 42 Harbour Road, Bristol BS1 5TY"], ["Street Fighter 2"],
            severity: Severity.Medium, keywords: s_streetWords, caseSensitive: true, keywordsEnableWholeText: true, confidence: 0.85);
        yield return Pii("DD-PII-011", "street-address", "German street address", DeAddress(),
            ["Anschrift: Hauptstraße 12, 10115 Berlin", "Berliner Allee 7a", "Lindenstrasse 4", "Kölner Straße 9"], ["Straße ohne Nummer", "registration 2024 strategy 12"],
            severity: Severity.Medium, keywords: ["strasse", "straße", "weg ", "gasse", "latz ", "llee ", "damm "], windowBefore: 40, windowAfter: 60,
            confidence: 0.8);
        yield return Pii("DD-PII-012", "date-of-birth", "Date of birth next to a birth keyword", DateOfBirth(),
            ["Date of birth: 14/03/1987", "born on March 3, 1990", "DOB: 1985-07-22", "geboren am 03.04.1979"],
            ["meeting on 14/03/2024", "born to run", "adobe 2019-01-01"],
            severity: Severity.High, keywords: ["born", "irth", "dob:", "dob ", "d.o.b", "geboren", "nacimiento", "nascita"],
            windowBefore: 0, windowAfter: 48, confidence: 0.85);
        yield return Pii("DD-PII-013", "uk-nino", "UK National Insurance number", UkNino(),
            ["NI number: JG 10 37 72 A", "nino AB123456D"], ["BG 12 34 56 A", "QQ 12 34 56 E", "GB123456A"],
            severity: Severity.High, gate: t => t.LongestNumber >= 6, confidence: 0.75, validator: (v, _, _) => Checksums.UkNino(v) ? 0.75 : 0,
            context: ["national insurance", "ni number", "nino", "ni no"]);
        yield return Pii("DD-PII-014", "es-dni", "Spanish DNI or NIE", SpanishDni(),
            ["DNI 12345678Z", "NIE: X1234567L"], ["DNI 12345678A", "ref 87654321A"],
            severity: Severity.High, gate: t => t.LongestNumber >= 7, confidence: 0.75, validator: (v, _, _) => Checksums.SpanishDni(v) ? 0.75 : 0,
            context: ["dni", "nie", "documento", "nif"]);
        yield return Pii("DD-PII-015", "it-fiscal-code", "Italian codice fiscale", ItalianFiscalCode(),
            ["codice fiscale RSSMRA85T10A562S"], ["RSSMRA85T10A562X", "ABCDEF12G34H567I"],
            severity: Severity.High, gate: t => t.Digits >= 7, confidence: 0.9, validator: (v, _, _) => Checksums.ItalianFiscalCode(v) ? 0.9 : 0);
        yield return Pii("DD-PII-016", "in-aadhaar", "Indian Aadhaar number next to 'Aadhaar'", Aadhaar(),
            ["Aadhaar: 2345 6789 0124"], ["Aadhaar: 2345 6789 0123", "2345 6789 0124"],
            severity: Severity.High, keywords: ["aadhaar", "aadhar", "uidai"], windowBefore: 0, windowAfter: 48, confidence: 0.9,
            validator: (v, _, _) => Checksums.Verhoeff(v) ? 0.9 : 0);
        yield return Pii("DD-PII-017", "person-name", "Person name where the context names a person", PersonName(),
            ["Hi, my name is Maria Gonzalez and I need help", "Dear Mr. Okafor,", "please contact Priya Raman at the desk", "Best regards,\nTomasz Nowak", "Dear Prof. Anna Berg,"],
            ["Dear Customer,", "my name is not important", "Dear Sir or Madam", "Best regards,\nThe Support Team", "I am Happy with it", "Dear Dr. [PERSON_3],"],
            severity: Severity.Medium, caseSensitive: true,
            // Inner parts such as "ntact " or "egards," are rarer than the words' first letters; the detector widens
            // the window back to the start of the word, where the anchored pattern begins.
            keywords: ["name is", "Dear ", "I am ", "I'm ", "ntact ", "Name: ", "egards,",
                       "incerely,", "anks,", "heers,", "spoke with ", "Mr. ", "Mrs. ", "Ms. ", "Dr. ", "Mr ", "Mrs ", "Ms "],
            windowBefore: 0, windowAfter: 64, confidence: 0.65, validator: PersonNameCheck);
    }

    // Street suffixes as keywords, capitalised as in addresses. Short abbreviations carry their punctuation so
    // that "Step" or "Please" do not wake the address patterns. Keywords are searched by their first three
    // characters first, so where a suffix starts like a common word ("Court" like "Could") a rarer inner
    // part is the keyword instead ("treet"); the window still covers the whole address. "Ave" serves "Avenue" too:
    // its inner part "venue" is in every "revenue".
    private static readonly string[] s_streetWords =
        ["treet", "St.", "St,", "Ave", "Road", "Rd.", "Rd,", "oulevard", "Blvd", "Lane", "Drive", "Dr.", "Dr,", "Parkway", "Pkwy",
         "errace", "ighway", "Hwy", "quare", "rescent", "ardens", "Mews"];

    private static readonly HashSet<string> s_placeholderDomains = new(StringComparer.OrdinalIgnoreCase)
    {
        "example.com", "example.org", "example.net", "example.edu", "localhost", "domain.com", "email.com", "test.com", "yourdomain.com", "company.com",
    };

    private static readonly HashSet<string> s_fileExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "css", "ts", "py", "json", "yaml", "yml", "md", "txt", "html",
    };

    private static bool IsHexOrColon(char c) => char.IsAsciiHexDigit(c) || c == ':';

    private static double EmailCheck(string value, string text, int start)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        var local = value.AsSpan(0, at);
        var domain = value[(at + 1)..];
        var tld = domain[(domain.LastIndexOf('.') + 1)..];
        if (s_fileExtensions.Contains(tld) || s_placeholderDomains.Contains(domain) ||
            domain.EndsWith(".example", StringComparison.OrdinalIgnoreCase) || domain.EndsWith(".test", StringComparison.OrdinalIgnoreCase) ||
            domain.EndsWith(".invalid", StringComparison.OrdinalIgnoreCase) || domain.EndsWith(".local", StringComparison.OrdinalIgnoreCase) ||
            domain.EndsWith(".example.com", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        if (local is "git" || local.StartsWith('.') || local.EndsWith('.') || local.Contains("..", StringComparison.Ordinal))
        {
            return 0;
        }

        // "scheme://user:password@host" is a URL with credentials (a secret rule reports it), not an address.
        var tokenStart = start;
        while (tokenStart > 0 && start - tokenStart < 200 && !char.IsWhiteSpace(text[tokenStart - 1]) && text[tokenStart - 1] is not ('"' or '\'' or '<' or '(')) tokenStart--;
        if (text.AsSpan(tokenStart, start - tokenStart).Contains("://", StringComparison.Ordinal))
        {
            return 0;
        }

        return 0.95;
    }

    private static double CardCheck(string value, string text, int start)
    {
        // Separators, where present, must be used consistently: "4539 1488 0343 6467", not "4539-1488 03436467".
        var hasSpace = value.Contains(' ', StringComparison.Ordinal);
        var hasDash = value.Contains('-', StringComparison.Ordinal);
        if (hasSpace && hasDash) return 0;
        var digits = Checksums.DigitsOnly(value);
        if (digits.Length is < 13 or > 19 || !Checksums.Luhn(digits)) return 0;
        if (digits.Distinct().Count() < 4) return 0;
        var length = digits.Length;
        var p2 = int.Parse(digits.AsSpan(0, 2), provider: null);
        var p3 = int.Parse(digits.AsSpan(0, 3), provider: null);
        var p4 = int.Parse(digits.AsSpan(0, 4), provider: null);
        var p6 = int.Parse(digits.AsSpan(0, 6), provider: null);
        var known =
            (digits[0] == '4' && length is 13 or 16 or 19) ||
            (p2 is >= 51 and <= 55 && length == 16) || (p4 is >= 2221 and <= 2720 && length == 16) ||
            (p2 is 34 or 37 && length == 15) ||
            ((p4 == 6011 || p2 == 65 || p3 is >= 644 and <= 649 || p6 is >= 622126 and <= 622925) && length is 16 or 19) ||
            (p4 is >= 3528 and <= 3589 && length is 16 or 19) || (p4 is 2131 or 1800 && length == 15) ||
            ((p3 is >= 300 and <= 305 || p2 is 36 or 38 or 39) && length is 14 or 16) ||
            (p2 == 62 && length is >= 16 and <= 19) ||
            (p2 is 50 or (>= 56 and <= 69) && length is >= 12 and <= 19);
        return known ? 0.85 : 0;
    }

    private static double IPv4Check(string value, string text, int start)
    {
        if (start > 0 && text[start - 1] is 'v' or 'V') return 0;
        var before = text.AsSpan(Math.Max(0, start - 12), Math.Min(12, start));
        if (before.Contains("version", StringComparison.OrdinalIgnoreCase) || before.Contains("release", StringComparison.OrdinalIgnoreCase) ||
            before.Contains("build", StringComparison.OrdinalIgnoreCase) || before.Contains("oid", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        var parts = value.Split('.');
        var a = int.Parse(parts[0], provider: null);
        var b = int.Parse(parts[1], provider: null);
        var c = int.Parse(parts[2], provider: null);
        if (a is 0 or 127 or >= 224 || value == "255.255.255.255") return 0;
        if ((a == 192 && b == 0 && c == 2) || (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113)) return 0;
        if (a == 169 && b == 254) return 0;
        var isPrivate = a == 10 || (a == 172 && b is >= 16 and <= 31) || (a == 192 && b == 168) || (a == 100 && b is >= 64 and <= 127);
        return isPrivate ? 0.7 : 0.85;
    }

    private static double IPv6Check(string value, string text, int start)
    {
        var colons = value.Count(ch => ch == ':');
        if (colons < 2 || !IPAddress.TryParse(value, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6) return 0;
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any)) return 0;
        if (value.StartsWith("2001:db8", StringComparison.OrdinalIgnoreCase) || value.StartsWith("2001:0db8", StringComparison.OrdinalIgnoreCase)) return 0;
        var groups = value.Split(':', StringSplitOptions.RemoveEmptyEntries);
        return groups.Length >= 3 ? 0.85 : 0;
    }

    private static readonly HashSet<string> s_notNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "Customer", "Customers", "Sir", "Madam", "Team", "Support", "All", "Everyone", "Friends", "Colleagues", "Hiring", "Manager",
        "Sales", "User", "Users", "Valued", "Member", "Members", "Client", "Applicant", "Candidate", "Reader", "Readers", "Admin",
        "Happy", "Sorry", "Here", "The", "This", "That", "It", "Not", "Just", "Glad", "Thank", "Thanks", "Interested", "Writing",
        "Looking", "Trying", "Having", "Going", "Calling", "New", "Unable", "Able", "Sure", "Excited", "Pleased", "Concerned",
        "Regards", "Best", "Kind", "Warm", "Hello", "Hi", "Dear", "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Student", "Parent", "Partner", "Partners", "Office", "Department",
        "Service", "Services", "Help", "Desk", "Helpdesk", "Billing", "Account", "Accounts", "Human", "Resources", "Recruiter",
        "Google", "Microsoft", "Apple", "Amazon", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
        "English", "French", "German", "Spanish", "Chinese", "Python", "Java", "Assistant", "Bot", "Chatbot", "AI", "Or", "And",
    };

    private static double PersonNameCheck(string value, string text, int start)
    {
        var tokens = value.Split([' ', '-', '\''], StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0 || tokens.Any(s_notNames.Contains))
        {
            return 0;
        }

        // Weak triggers ("I am", "this is", "contact") need a full name; strong ones ("my name is", "Dear") take one word.
        var before = text.AsSpan(Math.Max(0, start - 16), Math.Min(16, start));
        var weak = before.Contains("i am", StringComparison.OrdinalIgnoreCase) || before.Contains("i'm", StringComparison.OrdinalIgnoreCase) ||
                   before.Contains("this is", StringComparison.OrdinalIgnoreCase) || before.Contains("contact", StringComparison.OrdinalIgnoreCase) ||
                   before.Contains("thanks", StringComparison.OrdinalIgnoreCase) || before.Contains("cheers", StringComparison.OrdinalIgnoreCase);
        if (weak && tokens.Length < 2)
        {
            return 0;
        }

        return tokens.Length >= 2 ? 0.75 : 0.6;
    }

    [GeneratedRegex("(?<![A-Za-z0-9._%+\\-'])[A-Za-z0-9._%+\\-'][A-Za-z0-9._%+\\-']{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?){0,8}\\.[A-Za-z]{2,24}(?![A-Za-z0-9\\-])")]
    private static partial Regex Email();

    [GeneratedRegex("(?<![\\w+@/.\\-])(?:(?:\\+|00)[1-9][0-9]{0,2}[ .\\-]?)?(?:\\([0-9]{1,5}\\)[ .\\-]?|[0-9]{1,5}[ .\\-])(?:[0-9]{2,5}[ .\\-]){0,4}[0-9]{2,8}(?: ?(?:x|ext\\.?) ?[0-9]{1,5})?(?![\\w@/]|[.\\-][0-9])|(?<![\\w+@/.\\-])\\+[1-9][0-9]{6,14}(?![\\w@/]|[.\\-][0-9])|(?<![\\w+@/.\\-])(?:\\+|00)[1-9][0-9]{0,2}[ \\-][0-9]{6,13}(?![\\w@/]|[.\\-][0-9])")]
    private static partial Regex Phone();

    [GeneratedRegex("(?<![0-9\\-])(?:[0-9]{4}[ \\-]?){3}[0-9]{1,7}(?![0-9])|(?<![0-9\\-])[0-9]{4}[ \\-]?[0-9]{6}[ \\-]?[0-9]{4,5}(?![0-9])")]
    private static partial Regex Card();

    [GeneratedRegex("(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])")]
    private static partial Regex Iban();

    [GeneratedRegex("(?<![0-9\\-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9\\-])|(?<![0-9][ ]?)[0-9]{3} [0-9]{2} [0-9]{4}(?![0-9]| [0-9])")]
    private static partial Regex Ssn();

    [GeneratedRegex("(?<![0-9])[0-9]{9}(?![0-9])")]
    private static partial Regex SsnBare();

    [GeneratedRegex("(?<![0-9.])(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}(?!\\.?[0-9])")]
    private static partial Regex IPv4();

    [GeneratedRegex("(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z:])")]
    private static partial Regex IPv6();

    [GeneratedRegex("(?<![0-9A-Za-z])[0-9]{1,6}[A-Z]?(?: [A-Z][a-z]{1,20}| [0-9]{1,3}(?:st|nd|rd|th)){1,4} (?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq)\\b\\.?(?:,? (?:Apt|Suite|Ste|Unit|#) ?[0-9A-Z]{1,6})?(?:, [A-Z][a-z]{1,20}(?: [A-Z][a-z]{1,20}){0,2},? [A-Z]{2} [0-9]{5}(?:-[0-9]{4})?)?")]
    private static partial Regex UsAddress();

    [GeneratedRegex("(?<![0-9A-Za-z])[0-9]{1,4}[A-Za-z]? [A-Z][a-z]{1,20}(?: [A-Z][a-z]{1,20}){0,3} (?:Street|Road|Lane|Avenue|Close|Crescent|Drive|Gardens|Grove|Hill|Place|Square|Terrace|Way|Mews|Row|Walk)(?:, [A-Z][a-z]{1,20}(?: [A-Z][a-z]{1,20}){0,2})?,? [A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}(?![A-Za-z0-9])")]
    private static partial Regex UkAddress();

    [GeneratedRegex("(?<![A-Za-zÄÖÜäöüß])(?:[A-ZÄÖÜ][a-zäöüß]{2,30}(?:straße|strasse|weg|gasse|platz|allee|damm)|[A-ZÄÖÜ][a-zäöüß]{2,30} (?:Straße|Strasse|Weg|Platz|Allee|Gasse|Damm)) [0-9]{1,4}[a-z]?(?:, ?[0-9]{5} [A-ZÄÖÜ][a-zäöüß]{2,30})?(?![0-9])")]
    private static partial Regex DeAddress();

    [GeneratedRegex("(?<![0-9])(?:[0-9]{1,2}[./\\-][0-9]{1,2}[./\\-](?:19|20)[0-9]{2}|(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}(?:st|nd|rd|th)? (?:of )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\\.? (?:19|20)[0-9]{2}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\\.? [0-9]{1,2}(?:st|nd|rd|th)?,? (?:19|20)[0-9]{2})(?![0-9])")]
    private static partial Regex DateOfBirth();

    [GeneratedRegex("(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D](?![A-Za-z0-9])")]
    private static partial Regex UkNino();

    [GeneratedRegex("(?<![A-Za-z0-9])(?:[0-9]{8}|[XYZ][0-9]{7})-?[A-HJ-NP-TV-Z](?![A-Za-z0-9])")]
    private static partial Regex SpanishDni();

    [GeneratedRegex("(?<![A-Za-z0-9])[A-Z]{6}[0-9]{2}[A-EHLMPRST][0-9]{2}[A-Z][0-9]{3}[A-Z](?![A-Za-z0-9])")]
    private static partial Regex ItalianFiscalCode();

    [GeneratedRegex("(?<![0-9])[2-9][0-9]{3} ?[0-9]{4} ?[0-9]{4}(?![0-9])")]
    private static partial Regex Aadhaar();

    [GeneratedRegex("\\G(?i:my name is|name is|dear|please contact|contact|i am|i'm|this is|name:|regards,|sincerely,|thanks,|cheers,|spoke with|spoke to|mrs?\\.?|ms\\.?|dr\\.)[ \\t\\r\\n]{1,3}(?:(?i:mr|mrs|ms|miss|mx|dr|prof)\\.? )?(?<v>\\p{Lu}\\p{Ll}{1,20}(?:[ '\\-]\\p{Lu}\\p{Ll}{1,20}){0,2})(?!\\p{L})")]
    private static partial Regex PersonName();
}
