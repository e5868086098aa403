namespace Drydock.Gateway.Tests;

/// <summary>
/// A markdown reference link whose definition arrives far behind it in a stream, through the running gateway with a
/// scripted upstream, both tiers, whole and streamed: a credential or personal value in the definition's target or title
/// (the definition line is text the guard reads like any other), and a value split between a link's text and the word
/// after it (<c>[AKIAQ3EG][r]RL5T…</c>, which a page shows joined once <c>[r]: …</c> arrives, hundreds of characters —
/// several hold-back windows — later). Ordinary markdown with citations and late definitions goes out unchanged.
/// </summary>
public sealed class LateReferenceDefinitionTests : IAsyncLifetime
{
    // More than four hold-back windows of prose between the link and its definition.
    private static readonly string s_filler = string.Concat(Enumerable.Repeat(" The release adds caching, retries and a smaller image.", 6));

    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    private static string Letters(string text) => new([.. text.Where(char.IsAsciiLetterOrDigit)]);

    public static TheoryData<string, int, string, string, string> Cases()
    {
        (string Text, string Secret, string Marker)[] cases =
        [
            ("See [click here][r] for details." + s_filler + "\n\n[r]: https://example.com/dl?key=AKIAQ3EGRL5TFZ6XW7NB", "Q3EGRL5TFZ6X", "[AWS_ACCESS_KEY_ID]"),
            ("See [click here][r] for details." + s_filler + "\n\n[r]: https://example.com/docs \"maria.lopez@fastmail.com\"", "lopez", "[EMAIL]"),
            ("See [click here][r] for details." + s_filler + "\n\n[r]: mailto:maria.lopez@fastmail.com", "lopez", "[EMAIL]"),
            ("See [click here][] for details." + s_filler + "\n\n[click here]:\n  https://example.com/?k=AKIAQ3EGRL5TFZ6XW7NB 'docs'", "Q3EGRL5TFZ6X", "[AWS_ACCESS_KEY_ID]"),
            ("Your key is [AKIAQ3EG][r]RL5TFZ6XW7NB for now." + s_filler + "\n\n[r]: https://example.com", "RL5TFZ6XW7NB", "[AWS_ACCESS_KEY_ID]"),
            ("Your key is AKIA[Q3EGRL5T][r]FZ6XW7NB for now." + s_filler + "\n\n[r]: https://example.com", "FZ6XW7NB", "[AWS_ACCESS_KEY_ID]"),
            ("Your key is [AKIAQ3EG]RL5TFZ6XW7NB for now." + s_filler + "\n\n[akiaq3eg]: https://example.com", "RL5TFZ6XW7NB", "[AWS_ACCESS_KEY_ID]"),
            ("Mail [maria.lopez][m]@fastmail.com today." + s_filler + "\n\n[m]: https://example.com", "fastmail", "[EMAIL]"),
        ];
        var data = new TheoryData<string, int, string, string, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var size in new[] { 0, 1, 7, 50 })
            {
                foreach (var (text, secret, marker) in cases) data.Add(tier, size, text, secret, marker);
            }
        }

        return data;
    }

    /// <summary>Size 0 sends the answer whole; otherwise streamed that many characters a chunk.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AValueInALateDefinitionOrSplitByAReferenceLink_IsGuarded(string tier, int size, string text, string secret, string marker)
    {
        var streamed = size > 0;
        var script = streamed ? ScriptedGateway.Streamed(text, size) : ScriptedGateway.Whole(text);
        var (status, body, client) = await _gateway.SendAsync(tier, script, streamed);
        Assert.Equal(200, status);
        Assert.DoesNotContain(Letters(secret), Letters(client), StringComparison.Ordinal);
        Assert.DoesNotContain(Letters(secret), Letters(body), StringComparison.Ordinal);
        Assert.Contains(tier == "internal" ? marker : "[response blocked by policy]", client, StringComparison.Ordinal);
        Assert.DoesNotContain(Letters(secret), Letters(await _gateway.AuditLogAsync()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(50)]
    public async Task OrdinaryMarkdownWithLateDefinitions_IsServedUnchanged(int size)
    {
        var text = "Compare [Go][go] and [Rust][] for a small CLI [1], see also [the FAQ] and - [x] done, - [ ] open, a[i] + b[j]."
            + s_filler + "\n\n[go]: https://go.dev \"Go\"\n[Rust]: https://www.rust-lang.org\n[1]: https://example.com/paper.pdf\n[the faq]: https://example.com/faq";
        var script = size > 0 ? ScriptedGateway.Streamed(text, size) : ScriptedGateway.Whole(text);
        foreach (var tier in new[] { "internal", "public" })
        {
            var (status, _, client) = await _gateway.SendAsync(tier, script, size > 0);
            Assert.Equal(200, status);
            Assert.Equal(text, client);
        }
    }

    /// <summary>
    /// Bracketed placeholders and footnote marks with no definition, as fine-tuning answers write them, go out as written,
    /// streamed as whole: read as links, <c>Dear [Name],</c> showed a person's name after "Dear" and was redacted in a
    /// stream only.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(50)]
    public async Task PlaceholdersAndFootnotesWithoutDefinitions_AreServedUnchanged(int size)
    {
        string[] texts =
        [
            "Dear [Name],\n\nThank you for your order. It ships on Monday.\n\nBest regards,\n[Your Name]",
            "Dear [Customer Name],\n\nWe are sorry for the delay." + s_filler,
            "The method halves the error rate, see [1]. A later study [2] agrees (see [3])." + s_filler,
        ];
        foreach (var text in texts)
        {
            var script = size > 0 ? ScriptedGateway.Streamed(text, size) : ScriptedGateway.Whole(text);
            foreach (var tier in new[] { "internal", "public" })
            {
                var (status, _, client) = await _gateway.SendAsync(tier, script, size > 0);
                Assert.Equal(200, status);
                Assert.Equal(text, client);
            }
        }
    }
}
