using System.Security.Cryptography;
using System.Text;
using Bogus;
using Drydock.Curation.Policy;
using Drydock.Detection;

namespace Drydock.Curation.Redaction;

/// <summary>
/// Replaces detected values as the policy says: typed placeholders (<c>[EMAIL]</c>), pseudonyms keyed by an HMAC
/// (<c>[PERSON_NAME_3f9a2c]</c>: the same value gets the same pseudonym in every record, and the mapping cannot be
/// reversed without the key), or fake values of the same kind made with Bogus and seeded by that HMAC (names,
/// e-mail addresses at example.com, fictional 555-01xx phone numbers, street addresses). Types with no fake of
/// their kind (cards, keys, ids) get a placeholder, so a cleaned file never holds a value a scan would flag again.
/// Thread-safe.
/// </summary>
public sealed class Redactor(CleaningPolicy policy, byte[] key)
{
    [ThreadStatic]
    private static Faker? t_faker;

    private readonly CleaningPolicy _policy = policy;
    private readonly byte[] _key = key;

    /// <summary>The replacement for one finding's value.</summary>
    public string Replacement(Finding finding, string value)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var label = finding.Type.ToUpperInvariant().Replace('-', '_');
        return _policy.RedactionFor(finding.Type) switch
        {
            RedactionMode.Pseudonym => $"[{label}_{ValueHash(finding.Type, value)[..6]}]",
            RedactionMode.Fake => Fake(finding.Type, value) ?? $"[{label}]",
            _ => $"[{label}]",
        };
    }

    /// <summary>HMAC-SHA256 of a value (with its type), hex: what ledgers record instead of the value.</summary>
    public string ValueHash(string type, string value) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(type + "\u0000" + value)));

    private string? Fake(string type, string value)
    {
        var seed = BitConverter.ToInt32(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("fake\u0000" + type + "\u0000" + value)), 0);
        var faker = t_faker ??= new Faker("en");
        faker.Random = new Randomizer(seed);
        return type switch
        {
            "person-name" => faker.Name.FullName(),
            "email" => $"{faker.Name.FirstName().ToLowerInvariant()}.{faker.Name.LastName().ToLowerInvariant()}@example.com",
            "phone-number" => faker.Phone.PhoneNumber("555-01##"),
            "street-address" => faker.Address.StreetAddress(),
            _ => null,
        };
    }
}
