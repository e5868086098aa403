using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using PhoneNumbers;

namespace Drydock.Bench;

/// <summary>A value planted in synthetic text, with its label.</summary>
internal sealed record Planted(string Type, string Value);

/// <summary>
/// Generates labelled synthetic values (PII and credentials of documented shapes, with valid checksums)
/// and realistic distractors that must not be reported (UUIDs, git SHAs, Luhn-invalid numbers, order
/// numbers, placeholder keys, versions, dates). Deterministic for a seed.
/// </summary>
internal sealed class Synthetic(int seed)
{
    private readonly Random _random = new(seed);
    private static readonly PhoneNumberUtil s_phones = PhoneNumberUtil.GetInstance();
    private const string Alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string Hex = "0123456789abcdef";
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static readonly string[] s_first = ["maria", "tomasz", "priya", "kwame", "ingrid", "luca", "aiko", "omar", "sofia", "daniel", "chen", "fatima", "noah", "elena", "raj"];
    private static readonly string[] s_last = ["gonzalez", "nowak", "raman", "mensah", "larsen", "rossi", "tanaka", "haddad", "silva", "okafor", "wei", "khan", "baker", "petrova", "iyer"];
    private static readonly string[] s_domains = ["fastmail", "harborbank", "northwind", "contoso-mail", "acme-corp", "bluefin", "mailbox", "inbox-now", "orbitel", "kestrel"];
    private static readonly string[] s_tlds = ["com", "net", "org", "io", "co.uk", "de", "fr", "com.au"];

    public T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    public int Next(int max) => _random.Next(max);

    public double NextDouble() => _random.NextDouble();

    private string Chars(string alphabet, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++) chars[i] = alphabet[_random.Next(alphabet.Length)];
        return new string(chars);
    }

    private string Digits(int length) => Chars("0123456789", length);

    public string FirstName() => Capitalize(Pick(s_first));

    public string LastName() => Capitalize(Pick(s_last));

    private static string Capitalize(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    // ---------- personal data ----------

    public Planted Email() => new("email", $"{Pick(s_first)}{Pick([".", "_", ""])}{Pick(s_last)}{(_random.Next(3) == 0 ? _random.Next(99).ToString() : "")}@{Pick(s_domains)}.{Pick(s_tlds)}");

    public Planted Phone()
    {
        while (true)
        {
            var text = _random.Next(5) switch
            {
                0 => $"+1 {Pick(["212", "415", "312", "617", "206", "303", "404", "512", "646", "702"])}-{_random.Next(200, 999)}-{Digits(4)}",
                1 => $"({Pick(["212", "415", "312", "617", "206"])}) {_random.Next(200, 999)}-{Digits(4)}",
                2 => $"+44 20 {_random.Next(3000, 8999)} {Digits(4)}",
                3 => $"+49 {Pick(["30", "89", "40", "69"])} {_random.Next(200, 999)}{Digits(5)}",
                _ => $"+33 1 {Digits(2)} {Digits(2)} {Digits(2)} {Digits(2)}",
            };
            try
            {
                if (s_phones.IsValidNumber(s_phones.Parse(text, "US"))) return new Planted("phone-number", text);
            }
            catch (NumberParseException)
            {
            }
        }
    }

    public Planted Card()
    {
        var (prefix, length) = _random.Next(4) switch
        {
            0 => ("4", 16),
            1 => ($"5{_random.Next(1, 6)}", 16),
            2 => (Pick(["34", "37"]), 15),
            _ => ("6011", 16),
        };
        var body = prefix + Digits(length - prefix.Length - 1);
        var digits = body + LuhnDigit(body);
        var text = _random.Next(3) switch
        {
            0 => digits,
            1 when length == 16 => string.Join(' ', digits.Chunk(4).Select(c => new string(c))),
            _ when length == 16 => string.Join('-', digits.Chunk(4).Select(c => new string(c))),
            _ => $"{digits[..4]} {digits[4..10]} {digits[10..]}",
        };
        return new Planted("credit-card", text);
    }

    public static char LuhnDigit(string body)
    {
        var sum = 0;
        for (var i = 0; i < body.Length; i++)
        {
            var d = body[body.Length - 1 - i] - '0';
            if (i % 2 == 0)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }

            sum += d;
        }

        return (char)('0' + (10 - sum % 10) % 10);
    }

    public Planted Iban()
    {
        var (country, bban) = _random.Next(4) switch
        {
            0 => ("DE", Digits(18)),
            1 => ("GB", Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4) + Digits(14)),
            2 => ("FR", Digits(10) + Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 11) + Digits(2)),
            _ => ("NL", Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4) + Digits(10)),
        };
        var rearranged = bban + country + "00";
        var remainder = 0;
        foreach (var c in rearranged)
        {
            remainder = char.IsDigit(c) ? (remainder * 10 + (c - '0')) % 97 : (remainder * 100 + (c - 'A' + 10)) % 97;
        }

        var iban = $"{country}{98 - remainder:00}{bban}";
        var text = _random.Next(2) == 0 ? iban : string.Join(' ', iban.Chunk(4).Select(c => new string(c)));
        return new Planted("iban", text);
    }

    public Planted Ssn()
    {
        int area;
        do area = _random.Next(1, 900); while (area == 666);
        return new Planted("us-ssn", $"{area:000}-{_random.Next(1, 100):00}-{_random.Next(1, 10000):0000}");
    }

    public Planted IPv4()
    {
        if (_random.Next(3) == 0) return new Planted("ipv4", $"10.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(1, 255)}");
        int a;
        do a = _random.Next(1, 224); while (a is 10 or 127 or 100 or 169 or 172 or 192 or 198 or 203);
        return new Planted("ipv4", $"{a}.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(1, 255)}");
    }

    public Planted IPv6() => new("ipv6", $"2a0{_random.Next(1, 9)}:{Chars(Hex, 4)}:{Chars(Hex, 3)}::{Chars(Hex, 4)}:{Chars(Hex, 2)}");

    // ---------- credentials ----------

    private string GitHubStyle(string prefix)
    {
        var entropy = Chars(Alnum, 30);
        var crc = Crc32.HashToUInt32(Encoding.ASCII.GetBytes(entropy));
        var check = new char[6];
        for (var i = 5; i >= 0; i--)
        {
            check[i] = Base62[(int)(crc % 62)];
            crc /= 62;
        }

        return prefix + entropy + new string(check);
    }

    public Planted Secret()
    {
        return _random.Next(20) switch
        {
            0 => new("aws-access-key-id", "AKIA" + Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
            1 => new("github-pat", GitHubStyle("ghp_")),
            2 => new("github-fine-grained-pat", $"github_pat_{Chars(Alnum, 22)}_{Chars(Alnum, 59)}"),
            3 => new("slack-bot-token", $"xoxb-{Digits(11)}-{Digits(12)}-{Chars(Alnum, 24)}"),
            4 => new("stripe-secret-key", "sk_live_" + Chars(Alnum, 32)),
            5 => new("google-api-key", "AIza" + Chars(Alnum + "_-", 35)),
            6 => new("openai-api-key", $"sk-proj-{Chars(Alnum, 20)}T3BlbkFJ{Chars(Alnum, 20)}"),
            7 => new("anthropic-api-key", $"sk-ant-api03-{Chars(Alnum + "_-", 93)}AA"),
            8 => new("sendgrid-api-key", $"SG.{Chars(Alnum + "_-", 22)}.{Chars(Alnum + "_-", 43)}"),
            9 => new("npm-access-token", GitHubStyle("npm_")),
            10 => new("huggingface-token", "hf_" + Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)),
            11 => new("gitlab-pat", "glpat-" + Chars(Alnum + "_-", 20)),
            12 => new("jwt", Jwt()),
            13 => new("private-key-rsa", $"-----BEGIN RSA PRIVATE KEY-----\nMIIEow{Convert.ToBase64String(Bytes(120))}\n{Convert.ToBase64String(Bytes(90))}\n-----END RSA PRIVATE KEY-----"),
            14 => new("database-url-password", $"postgres://svc_{Pick(s_last)}:{Chars(Alnum, 16)}@db-{_random.Next(1, 9)}.{Pick(s_domains)}.internal:5432/app"),
            15 => new("dockerhub-pat", "dckr_pat_" + Chars(Alnum + "_-", 27)),
            16 => new("digitalocean-token", "dop_v1_" + Chars(Hex, 64)),
            17 => new("twilio-api-key", "SK" + Chars(Hex, 32)),
            18 => new("azure-storage-account-key", Convert.ToBase64String(Bytes(64))),
            _ => new("shopify-token", "shpat_" + Chars(Hex, 32)),
        };
    }

    private byte[] Bytes(int n)
    {
        var bytes = new byte[n];
        _random.NextBytes(bytes);
        return bytes;
    }

    private string Jwt()
    {
        static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{B64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.{B64($"{{\"sub\":\"{Digits(8)}\",\"iat\":{1700000000 + _random.Next(10000000)}}}")}.{Chars(Alnum + "_-", 43)}";
    }

    /// <summary>How a planted secret is written into text (some need their key name next to them).</summary>
    public string SecretSentence(Planted secret) => secret.Type switch
    {
        "azure-storage-account-key" => $"DefaultEndpointsProtocol=https;AccountName={Pick(s_domains).Replace("-", "", StringComparison.Ordinal)};AccountKey={secret.Value};EndpointSuffix=core.windows.net",
        "jwt" => $"Authorization: Bearer {secret.Value}",
        _ => Pick(["Here is the key: {0}", "config: {0}", "export TOKEN={0}", "I pasted {0} by mistake, is it a problem?", "\"api_token\": \"{0}\"", "The deploy log shows {0} in plain text."])
            .Replace("{0}", secret.Value, StringComparison.Ordinal),
    };

    // ---------- distractors that must not be reported ----------

    public string Distractor() => _random.Next(14) switch
    {
        0 => Guid.NewGuid().ToString(),
        1 => Chars(Hex, 40),
        2 => BadLuhn(),
        3 => $"ORD-{2020 + _random.Next(6)}-{Digits(6)}",
        4 => "AKIAIOSFODNN7EXAMPLE",
        5 => "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        6 => $"v{_random.Next(1, 9)}.{_random.Next(20)}.{_random.Next(50)}",
        7 => $"{2020 + _random.Next(6)}-{_random.Next(1, 13):00}-{_random.Next(1, 29):00}",
        8 => $"{_random.Next(24):00}:{_random.Next(60):00}:{_random.Next(60):00}",
        9 => $"#{Chars(Hex, 6)}",
        10 => $"ISBN 978-{_random.Next(10)}-{Digits(3)}-{Digits(5)}-{_random.Next(10)}",
        11 => $"invoice {Digits(4)} {Digits(4)} {Digits(4)}",
        12 => $"sha256:{Chars(Hex, 64)}",
        _ => $"build {_random.Next(1, 9)}.{_random.Next(10)}.{_random.Next(100)}.{_random.Next(1000)}",
    };

    private string BadLuhn()
    {
        var body = "4" + Digits(14);
        var check = (char)('0' + ((LuhnDigit(body) - '0' + 1 + _random.Next(8)) % 10));
        return body + check;
    }

    private static readonly string[] s_sentences =
    [
        "How do I reset my password for the online portal?", "The quarterly report is attached; revenue grew 4% year over year.",
        "Could you explain the difference between a Roth IRA and a traditional IRA?", "Our build fails on the integration stage since Monday.",
        "Please summarise the following meeting notes in three bullet points.", "The API returns a 502 when the payload is larger than 1 MB.",
        "Translate this paragraph into French, keeping the formal tone.", "What is the capital of Australia and why was it chosen?",
        "I would like to change the delivery date of my order.", "Write a haiku about autumn leaves falling on a quiet lake.",
        "Thanks, that solved it! The service is back up.", "Our team uses Kubernetes with three node pools and an ingress controller.",
        "Refactor this function so that it does not allocate on the hot path.", "The customer asked whether the warranty covers water damage.",
        "Step 1: open Settings. Step 2: choose Security. Step 3: enable two-factor authentication.",
        "The model should answer politely and refuse requests for personal data.", "Estimated delivery is 3 to 5 business days.",
    ];

    public string Sentence() => Pick(s_sentences);

    /// <summary>One synthetic chat record (JSON) and the values planted in it.</summary>
    public (string Json, List<Planted> Planted) ChatRecord(int id, double findingRate)
    {
        var planted = new List<Planted>();
        var user = new StringBuilder();
        var assistant = new StringBuilder();
        for (var i = 0; i < 2 + _random.Next(4); i++) user.Append(Sentence()).Append(' ');
        for (var i = 0; i < 3 + _random.Next(6); i++) assistant.Append(Sentence()).Append(' ');
        if (_random.Next(3) == 0) user.Append(" Ref: ").Append(Distractor()).Append('.');
        if (_random.NextDouble() < findingRate)
        {
            var value = _random.Next(9) switch
            {
                0 => Email(),
                1 => Phone(),
                2 => Card(),
                3 => Iban(),
                4 => Ssn(),
                5 => IPv4(),
                6 => IPv6(),
                _ => Secret(),
            };
            planted.Add(value);
            user.Append(value.Type switch
            {
                "email" => $" You can reach me at {value.Value}.",
                "phone-number" => _random.Next(4) switch
                {
                    // Support tickets name tickets, orders and refunds next to a number to call back.
                    0 => $" My phone number is {value.Value}.",
                    1 => $" Re ticket {_random.Next(1000, 99999)}: you can reach me on {value.Value} after 5pm.",
                    2 => $" About my order {_random.Next(1000, 99999)}, the best number for me is {value.Value}.",
                    _ => $" For the refund, ring {value.Value}.",
                },
                "credit-card" => $" The card I used was {value.Value}.",
                "iban" => $" Please refund to IBAN {value.Value}.",
                "us-ssn" => $" My SSN is {value.Value}.",
                "ipv4" or "ipv6" => $" The request came from {value.Value} yesterday.",
                _ => " " + SecretSentence(value),
            });
        }

        var record = new
        {
            id = $"rec-{id:D7}",
            messages = new[]
            {
                new { role = "system", content = "You are a helpful support assistant for an online bank." },
                new { role = "user", content = user.ToString().Trim() },
                new { role = "assistant", content = assistant.ToString().Trim() },
            },
        };
        return (JsonSerializer.Serialize(record), planted);
    }
}
