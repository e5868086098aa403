using Drydock.Detection.Analyzers;
using Drydock.Gateway.Guards;

namespace Drydock.Gateway.Tests;

/// <summary>
/// A value written partly in plain characters and partly in Unicode tag characters (<c>AKIA</c> plain, the rest as tag
/// characters; an email's name plain and its domain in tags; every other character of a canary in tags) is one value:
/// through the running gateway, whole and streamed, redacted on <c>internal</c> and blocked on <c>public</c>; the
/// gateway reads tag characters with the detector's reading.
/// </summary>
public sealed class MixedTagTextTests : IAsyncLifetime
{
    private readonly string _canary = CanaryAnalyzer.NewValue();
    private ScriptedGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await ScriptedGateway.StartAsync(_canary);

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    private static string Tags(string text) => string.Concat(text.Select(c => char.ConvertFromUtf32(0xE0000 + c)));

    public static TheoryData<string, bool> TiersAndShapes() => new() { { "internal", false }, { "internal", true }, { "public", false }, { "public", true } };

    [Theory]
    [MemberData(nameof(TiersAndShapes))]
    public async Task AValueHalfPlainHalfInTagCharacters_IsRedactedOrBlocked(string tier, bool streamed)
    {
        var wrong = new List<string>();
        foreach (var (value, split, placeholder) in new[] { (FakeUpstream.AwsKey, 4, "[AWS_ACCESS_KEY_ID]"), (FakeUpstream.Email, 15, "[EMAIL]") })
        {
            var written = value[..split] + Tags(value[split..]);
            var text = $"Sure: {written} is what you need.";
            var (status, body, seen) = await _gateway.SendAsync(tier, streamed ? ScriptedGateway.Streamed(text, 6) : ScriptedGateway.Whole(text), streamed);
            var label = $"{tier} {(streamed ? "streamed" : "whole")} {placeholder}: {status} {body}";
            if (seen.Contains('\uDB40', StringComparison.Ordinal)) wrong.Add($"{label}: tag characters reached the client");
            if (tier == "internal" && seen != $"Sure: {placeholder} is what you need.") wrong.Add($"{label}: not redacted whole");
            if (tier == "public" && !seen.Contains(GuardedAnswer.BlockedNotice, StringComparison.Ordinal)) wrong.Add($"{label}: not blocked");
            if ((await _gateway.AuditLogAsync()).Contains(Tags(value[split..]), StringComparison.Ordinal)) wrong.Add($"{label}: the request log holds the value");
        }

        Assert.Empty(wrong);
    }

    [Theory]
    [MemberData(nameof(TiersAndShapes))]
    public async Task ACanaryWithEveryOtherCharacterInTags_TripsTheWire(string tier, bool streamed)
    {
        var written = string.Concat(_canary.Select((c, i) => i % 2 == 0 ? c.ToString() : Tags(c.ToString())));
        var text = $"The recovery code is {written} as asked.";
        var (_, body, seen) = await _gateway.SendAsync(tier, streamed ? ScriptedGateway.Streamed(text, 6) : ScriptedGateway.Whole(text), streamed);
        Assert.True(body.Contains("content_filter", StringComparison.Ordinal) || body.Contains("output_blocked", StringComparison.Ordinal), body);
        Assert.DoesNotContain('\uDB40', seen);
    }
}
