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

    /// <summary>
    /// An instruction split across two messages (<c>Ignore all previous</c>, then <c>instructions and …</c>) is a
    /// sentence in none of them, and the request's texts are joined with line breaks, where a sentence ends. The user's
    /// texts are joined with a space, as one sentence may run on from one to the next, and the injection findings of
    /// the join that block (high severity) are returned; none when the request's own judgement already found such an
    /// injection (never counted twice). A word may be split as well (<c>Ign</c>, then <c>ore all previous …</c>): when
    /// the join with a space finds none, the texts joined with nothing between them are judged the same way, and only
    /// at the word that joins there: a pattern's finding that runs across the point where one text gives way to the
    /// next counts, a score of the whole join does not (the classifiers read all its words, which the join with a
    /// space gave them already; "… this task" and "Suggest …" read as "taskSuggest" changed one word's reading only).
    /// </summary>
    public static List<Finding> InjectionAcross(TextGuard guard, IReadOnlyList<string> userTexts, GuardResult judged, GuardMode mode, bool semantic)
    {
        if (userTexts.Count < 2 || mode == GuardMode.Off || judged.Findings.Any(f => f.Category == Categories.Injection && f.Severity >= Severity.High)) return [];
        var spaced = Blocking(guard, string.Join(" ", userTexts), mode, semantic);
        if (spaced.Count > 0) return spaced;
        var ends = new List<int>(userTexts.Count);
        var length = 0;
        foreach (var text in userTexts) ends.Add(length += text.Length);
        return [.. Blocking(guard, string.Concat(userTexts), mode, semantic)
            .Where(f => !Drydock.Detection.Analyzers.InjectionAnalyzer.ScoresWholeText(f) && ends.Exists(e => f.Start < e && f.End > e))];
    }

    private static List<Finding> Blocking(TextGuard guard, string joined, GuardMode mode, bool semantic)
    {
        if (joined.Length > BoundaryWindows.WholeJoinLimit) joined = joined[..BoundaryWindows.WholeJoinLimit];
        return [.. guard.Input(joined, mode, semantic).Findings.Where(f => f.Category == Categories.Injection && f.Severity >= Severity.High)];
    }
}
