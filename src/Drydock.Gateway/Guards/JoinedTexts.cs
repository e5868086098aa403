using Drydock.Detection;

namespace Drydock.Gateway.Guards;

/// <summary>
/// A value split across the texts of one request (a key pasted half in one message, half in the next) is whole in
/// none of them: the texts are joined in order with no separator, the join is judged (<see cref="BoundaryWindows"/>:
/// whole up to 64 KiB, else in windows wide enough for the longest value), and a secret found there across the end of
/// one text is a finding of the request. This costs one more scan of the request.
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
        return BoundaryWindows.Across(joined, ends, window => guard.Input(window, mode).Findings.Where(f => f.Category == Categories.Secret));
    }
}
