namespace Drydock.Gateway.Tests;

/// <summary>
/// Left open by the sixth outside attack, each through the running gateway with a scripted upstream, both tiers, whole
/// and streamed: keys in groups joined by runs of separator characters other than one (<c> -- </c>, <c> | </c>, a tab,
/// <c> · </c>, quotes and commas, groups of mixed lengths), and e-mail addresses with <c>@</c> and dots written in
/// other ways (<c> @ </c>, <c>-at-</c>, <c>(period)</c>, <c>at-sign</c>, <c>[@]</c>, <c>@@</c>). Prose, tables and
/// code written with the same separators go out unchanged.
/// </summary>
public sealed partial class OuterSeparatorTests : IAsyncLifetime
{
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    private static string Letters(string text) => new([.. text.Where(char.IsAsciiLetterOrDigit)]);

    public static TheoryData<string, bool, string, string> Keys()
    {
        var data = new TheoryData<string, bool, string, string>();
        string[] aws =
        [
            "AKIA -- Q3EG -- RL5T -- FZ6X -- W7NB", "AKIA  -  Q3EG  -  RL5T  -  FZ6X  -  W7NB", "AKIA | Q3EG | RL5T | FZ6X | W7NB",
            "AKIA|Q3EG|RL5T|FZ6X|W7NB", "AKIA + Q3EG + RL5T + FZ6X + W7NB", "AKIA : Q3EG : RL5T : FZ6X : W7NB", "AKIA\tQ3EG\tRL5T\tFZ6X\tW7NB",
            "AKIA -\nQ3EG -\nRL5T -\nFZ6X -\nW7NB", "AKIA · Q3EG · RL5T · FZ6X · W7NB", "AKIA  Q3EG  RL5T  FZ6X  W7NB",
            "AKIA - Q3EG, RL5T / FZ6X ; W7NB", "AKIA - Q3EGRL - 5TFZ6XW7NB", "AKIA - Q3 - EG - RL - 5T - FZ - 6X - W7 - NB",
            "\"AKIA\", \"Q3EG\", \"RL5T\", \"FZ6X\", \"W7NB\"", "AKIA * Q3EG * RL5T * FZ6X * W7NB", "AKIA  *  Q3EG  *  RL5T  *  FZ6X  *  W7NB",
        ];
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var streamed in new[] { false, true })
            {
                foreach (var written in aws) data.Add(tier, streamed, written, "[AWS_ACCESS_KEY_ID]");
                data.Add(tier, streamed, "ghp_u8jz - Pde0 - IgxL - d6Gn - cfBA - epfJ - Bd0K - h802 - 4xXH", "[GITHUB_PAT]");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task AKeyInGroupsJoinedByRunsOfSeparators_IsGuarded(string tier, bool streamed, string written, string marker)
    {
        var text = "Your key is " + written + " ok";
        var script = streamed ? ScriptedGateway.Streamed(text, 4) : ScriptedGateway.Whole(text);
        var (status, body, client) = await _gateway.SendAsync(tier, script, streamed);
        Assert.Equal(200, status);
        var middle = Letters(written)[4..14];
        Assert.DoesNotContain(middle, Letters(client), StringComparison.Ordinal);
        Assert.DoesNotContain(middle, Letters(body), StringComparison.Ordinal);
        Assert.Contains(tier == "internal" ? marker : "[response blocked by policy]", client, StringComparison.Ordinal);
        Assert.DoesNotContain(middle, Letters(await _gateway.AuditLogAsync()), StringComparison.Ordinal);
    }

    public static TheoryData<string, bool, string> Addresses()
    {
        var data = new TheoryData<string, bool, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var streamed in new[] { false, true })
            {
                data.Add(tier, streamed, "maria.lopez @ fastmail . com");
                data.Add(tier, streamed, "maria.lopez @ fastmail.com");
                data.Add(tier, streamed, "maria.lopez -at- fastmail -dot- com");
                data.Add(tier, streamed, "maria.lopez (at) fastmail (period) com");
                data.Add(tier, streamed, "maria.lopez at-sign fastmail dot com");
                data.Add(tier, streamed, "maria.lopez [@] fastmail [.] com");
                data.Add(tier, streamed, "maria.lopez@@fastmail.com");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Addresses))]
    public async Task AnAddressWithAtAndDotWrittenOtherwise_IsGuarded(string tier, bool streamed, string written)
    {
        var text = "Mail " + written + " today";
        var script = streamed ? ScriptedGateway.Streamed(text, 4) : ScriptedGateway.Whole(text);
        var (status, body, client) = await _gateway.SendAsync(tier, script, streamed);
        Assert.Equal(200, status);
        Assert.DoesNotContain("fastmail", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("lopez", client, StringComparison.Ordinal);
        Assert.Contains(tier == "internal" ? "Mail [EMAIL] today" : "[response blocked by policy]", client, StringComparison.Ordinal);
        Assert.DoesNotContain("fastmail", await _gateway.AuditLogAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("| Name | Q1 | Q2 | Q3 | Q4 |\n|------|----|----|----|----|\n| AB12 | 10 | 20 | 30 | 40 |")]
    [InlineData("Let x = a + b + c2 + D4 + E5 + F6 and y = A1 : B2 : C3.")]
    [InlineData("ID,SKU,QTY\n1,AB12,CD34\n2,EF56,GH78\n3,IJ90,KL12")]
    [InlineData("Steps: A1 -- B2 -- C3 -- D4 -- E5, then call us @ the office . com is fine.")]
    [InlineData("Rooms \"A101\", \"B202\", \"C303\" and \"D404\" are free; write to us @ acme.com or (period) end.")]
    [InlineData("Let z = a * b * c2 and AB12 * CD34 * EF56 * GH78 = 0; **Bold AB12** and *Q3EG* stay, `x * y` too.")]
    [InlineData("| Term | Value |\n|---|---|\n| W1 * H2 * D3 | 4 * 5 * 6 |\n\n* AB12 item\n* CD34 item\n* EF56 item")]
    [InlineData("Meet me at-sign post 4 and bring the USB-C cable, the HDMI | VGA adapter and 2 x AA.")]
    public async Task ProseTablesAndCodeWithTheSameSeparators_GoOutUnchanged(string text)
    {
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var streamed in new[] { false, true })
            {
                var script = streamed ? ScriptedGateway.Streamed(text, 4) : ScriptedGateway.Whole(text);
                var (status, _, client) = await _gateway.SendAsync(tier, script, streamed);
                Assert.Equal(200, status);
                Assert.Equal(text, client);
            }
        }
    }
}
