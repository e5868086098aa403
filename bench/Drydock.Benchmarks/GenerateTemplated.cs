namespace Drydock.Bench;

/// <summary>
/// Templated records: one 190-character boilerplate and a random 45-character tail each, so every pair shares most of
/// its shingles (Jaccard about 0.64) without being a near duplicate: every record shares LSH bands with a fixed
/// fraction of the others, the worst case for the near-duplicate lookup's cost (<c>drydock clean --holdout</c>).
/// </summary>
internal static class GenerateTemplated
{
    private const string Boilerplate =
        "Thank you for contacting Example Support. Your request has been received and logged in our system. " +
        "A member of the team will review the details below and reply within two business days. Reference:";

    public static int Run(string output, int records)
    {
        var random = new Random(11);
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        using var writer = new StreamWriter(output, false, new System.Text.UTF8Encoding(false), 1 << 20);
        for (var i = 0; i < records; i++)
        {
            var tail = new string([.. Enumerable.Range(0, 45).Select(k => k % 9 == 8 ? ' ' : Alphabet[random.Next(Alphabet.Length)])]);
            writer.Write($$"""{"messages": [{"role": "user", "content": "ticket"}, {"role": "assistant", "content": "{{Boilerplate}} {{tail}}"}]}""");
            writer.Write('\n');
        }

        return 0;
    }
}
