using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// A value split across the texts of one request (a key pasted half in one message, half in the next) is whole in
/// none of them: the texts are judged once more joined in order with no separator, and a secret found there across the
/// end of one text is a finding of the request. The join is bounded by the request size limit
/// (<see cref="GatewayOptions.MaxRequestBytes"/>), so it costs at most one more scan of the request.
/// </summary>
internal static class JoinedTexts
{
    /// <summary>The secrets found in the texts joined that run across the end of one text (none found whole in a text).</summary>
    public static List<Finding> SecretsAcross(TextGuard guard, IReadOnlyList<string> texts, GuardMode mode)
    {
        if (texts.Count < 2 || mode == GuardMode.Off) return [];
        var ends = new List<int>(texts.Count);
        var length = 0;
        foreach (var text in texts) ends.Add(length += text.Length);
        var joined = string.Concat(texts);
        return guard.Input(joined, mode).Findings.Where(f => f.Category == Categories.Secret && ends.Exists(e => f.Start < e && f.End > e)).ToList();
    }
}
