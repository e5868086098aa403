using Drydock.Detection.Analyzers;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A digit written as a look-alike (Cyrillic <c>З</c> for 3) or as a decimal digit of another script (Oriya, Arabic-Indic,
/// fullwidth, mathematical) inside an AWS key or a registered canary code is read as the digit it stands for: through the
/// running gateway, whole and streamed, on a redact tier (<c>internal</c>) and a block tier (<c>public</c>).
/// </summary>
public sealed class DigitLookAlikeTests : IAsyncLifetime
{
    private const string Key = FakeUpstream.AwsKey; // AKIAQ3EGRL5TFZ6XW7NB
    private readonly string _canary = CanaryWithNineAndThree();
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync(_canary);

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    // A fresh canary code that holds a 3 and a 9, so both can be written in other scripts.
    private static string CanaryWithNineAndThree()
    {
        while (true)
        {
            var code = CanaryAnalyzer.NewValue();
            if (code.Contains('3', StringComparison.Ordinal) && code.Contains('9', StringComparison.Ordinal)) return code;
        }
    }

    // The text in chunks of about size characters, never cutting a surrogate pair (a mathematical digit) in two.
    private static List<string> Chunks(string text, int size)
    {
        var chunks = new List<string>();
        for (var at = 0; at < text.Length;)
        {
            var length = Math.Min(size, text.Length - at);
            if (char.IsHighSurrogate(text[at + length - 1]) && at + length < text.Length) length++;
            chunks.Add(text.Substring(at, length));
            at += length;
        }

        return chunks;
    }

    // Each way of writing the digit 3 that reads as 3: Cyrillic З, Oriya, Arabic-Indic, Devanagari, fullwidth, mathematical bold.
    public static TheoryData<string, bool, string> Threes()
    {
        var data = new TheoryData<string, bool, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var streamed in new[] { false, true })
            {
                foreach (var three in new[] { "\u0417", "\u0B69", "\u0663", "\u0969", "\uFF13", "\U0001D7D1" }) data.Add(tier, streamed, three);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Threes))]
    public async Task AnAwsKeyWithADigitOfAnotherScript_IsRedactedOrBlocked(string tier, bool streamed, string three)
    {
        var written = Key.Replace("3", three, StringComparison.Ordinal);
        var text = $"Use {written} for the bucket.";
        var (status, body, seen) = await _gateway.SendAsync(tier, streamed ? ScriptedGateway.Streamed(Chunks(text, 5)) : ScriptedGateway.Whole(text), streamed);
        var label = $"{tier} {(streamed ? "streamed" : "whole")} U+{char.ConvertToUtf32(three, 0):X4}: {status} {body}";
        Assert.False(seen.Contains("EGRL5TFZ", StringComparison.Ordinal), $"{label}: the key reached the client");
        if (tier == "internal") Assert.True(seen == "Use [AWS_ACCESS_KEY_ID] for the bucket.", label);
        else Assert.True(seen.Contains(GuardedAnswer.BlockedNotice, StringComparison.Ordinal), label);
        Assert.DoesNotContain("EGRL5TFZ", await _gateway.AuditLogAsync(), StringComparison.Ordinal);
    }

    public static TheoryData<string, bool, string, string> Nines()
    {
        var data = new TheoryData<string, bool, string, string>();
        foreach (var tier in new[] { "internal", "public" })
        {
            foreach (var streamed in new[] { false, true })
            {
                data.Add(tier, streamed, "\u0B6F", "\u0417");         // Oriya 9, Cyrillic З
                data.Add(tier, streamed, "\u0669", "\u0663");         // Arabic-Indic 9 and 3
                data.Add(tier, streamed, "\uFF19", "\U0001D7D1");     // fullwidth 9, mathematical 3
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Nines))]
    public async Task ACanaryWithDigitsOfAnotherScript_TripsTheWire(string tier, bool streamed, string nine, string three)
    {
        var written = _canary.Replace("9", nine, StringComparison.Ordinal).Replace("3", three, StringComparison.Ordinal);
        var text = $"The recovery code is {written} as asked.";
        var (_, body, seen) = await _gateway.SendAsync(tier, streamed ? ScriptedGateway.Streamed(Chunks(text, 4)) : ScriptedGateway.Whole(text), streamed);
        var label = $"{tier} {(streamed ? "streamed" : "whole")} {written}: {body}";
        Assert.True(body.Contains("content_filter", StringComparison.Ordinal) || body.Contains("output_blocked", StringComparison.Ordinal), $"{label}: the tripwire stayed silent");
        foreach (var group in written.Split('-')) Assert.False(seen.Contains(group, StringComparison.Ordinal), $"{label}: the group {group} reached the client");
        Assert.DoesNotContain(written.Split('-')[1], await _gateway.AuditLogAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Привет! Заказ №٣٤٥ от 3 мая, ЗАО «Ромашка», тел. ۰۹۱۲.")]
    [InlineData("العدد ٣٤٥٦٧٨٩ في الصفحة ١٢ من الكتاب، وطبعة ٢٠١٥.")]
    public async Task ProseInOtherScripts_PassesUnchanged(string text)
    {
        foreach (var streamed in new[] { false, true })
        {
            var (status, body, seen) = await _gateway.SendAsync("public", streamed ? ScriptedGateway.Streamed(Chunks(text, 5)) : ScriptedGateway.Whole(text), streamed);
            Assert.True(status == 200 && seen == text, $"{(streamed ? "streamed" : "whole")}: {status} {body}");
        }
    }
}
