using System.Text;
using Drydock.Detection;
using Drydock.Detection.Analyzers;
using Drydock.Detection.Engine;

namespace Drydock.Gateway.Guards;

/// <summary>The verdict on one text: whether to block it, the text with redactions, what was found.</summary>
public sealed record GuardResult(bool Blocked, string Text, IReadOnlyList<Finding> Findings)
{
    /// <summary>True when a registered canary is among the findings (the tripwire).</summary>
    public bool Canary => Findings.Any(f => f.Category == Categories.Canary);
}

/// <summary>
/// The detection engine as a guard: on prompts, prompt injection (high or critical blocks, medium is flagged) and pasted
/// secrets; on answers,
/// personal data, secrets and registered canaries. Redaction replaces a value with its typed placeholder
/// (<c>[EMAIL]</c>); a canary blocks the answer whatever the tier says.
/// </summary>
public sealed class TextGuard(Detector detector)
{
    /// <summary>
    /// Checks a prompt: pasted secrets and prompt injection of high or critical severity block it in <c>block</c> mode;
    /// injection of medium severity (asking for the system prompt, role-play openers) is flagged, never blocked.
    /// </summary>
    public GuardResult Input(string text, GuardMode mode)
    {
        if (mode == GuardMode.Off) return new GuardResult(false, text, []);
        var findings = detector.Scan(text).Where(f => (f.Category == Categories.Injection && f.Severity >= Severity.Medium) || f.Category == Categories.Secret).ToList();
        var blocking = findings.Any(f => f.Category == Categories.Secret || f.Severity >= Severity.High);
        return new GuardResult(mode == GuardMode.Block && blocking, text, findings);
    }

    /// <summary>Checks an answer.</summary>
    public GuardResult Output(string text, GuardMode mode, CanaryAnalyzer? canaries = null)
    {
        var verdict = Judge(text, mode, canaries);
        return verdict.Blocked || mode != GuardMode.Redact || verdict.Findings.Count == 0 ? verdict : verdict with { Text = Redact(text, verdict.Findings) };
    }

    // The verdict on an answer without redacting it (the stream guard redacts only the part that leaves).
    internal GuardResult Judge(string text, GuardMode mode, CanaryAnalyzer? canaries)
    {
        var findings = mode == GuardMode.Off ? [] : detector.Scan(text).Where(f => f.Category is Categories.Pii or Categories.Secret).ToList();
        List<Finding>? tripped = null;
        canaries?.Analyze(text, ref tripped);
        if (tripped is not null) return new GuardResult(true, text, [.. tripped, .. findings]);
        return new GuardResult(mode == GuardMode.Block && findings.Count > 0, text, findings);
    }

    /// <summary>Replaces each finding's span with <c>[TYPE]</c>.</summary>
    public static string Redact(string text, IEnumerable<Finding> findings)
    {
        var b = new StringBuilder(text.Length);
        var at = 0;
        foreach (var f in findings.OrderBy(f => f.Start).ThenByDescending(f => f.End))
        {
            if (f.End <= at) continue;
            var start = Math.Max(f.Start, at);
            b.Append(text, at, start - at).Append('[').Append(f.Type.ToUpperInvariant().Replace('-', '_')).Append(']');
            at = f.End;
        }

        return b.Append(text, at, text.Length - at).ToString();
    }
}

/// <summary>
/// The output guard for a stream: text is emitted only once it is at least <c>window</c> characters behind the
/// newest text, so a value split across chunks is whole in the held-back buffer before any of it leaves. Values
/// longer than the window are held whole too: a run of credential characters (ASCII letters, digits and
/// <c>-_.+/=~%:@</c>) still open at the cut waits up to <see cref="MaxTokenHold"/> characters, a PEM block whose END
/// line has not arrived (its pattern needs it) up to <see cref="MaxHold"/>, and a finding that runs across the cut
/// stays on the held side. The held text is kept as it arrived and judged again with every chunk (a value that is
/// still arriving can look like a shorter one of another type); only what leaves is redacted, judged with the last
/// characters sent before it as context.
/// </summary>
public sealed class StreamGuard(TextGuard guard, GuardMode mode, int window, CanaryAnalyzer? canaries = null)
{
    /// <summary>The most characters held back for an unfinished key block (the key patterns' own bound).</summary>
    public const int MaxHold = 16_400;

    /// <summary>The most characters held back for an unfinished run of credential characters (a long JWT).</summary>
    public const int MaxTokenHold = 4_096;

    // Characters already sent that are scanned again in front of the held text, so that context words ("my name
    // is", "password:") and the start of a value are seen with the rest; never sent twice.
    private const int ContextLength = 64;

    private string _pending = "";
    private string _sent = "";

    /// <summary>Findings in the text sent so far (or, once blocked, the ones that blocked it).</summary>
    public List<Finding> Findings { get; } = [];

    /// <summary>True once a finding blocked the answer.</summary>
    public bool Blocked { get; private set; }

    /// <summary>True when a registered canary blocked it.</summary>
    public bool Canary { get; private set; }

    /// <summary>Adds a delta; returns the text that may be sent now.</summary>
    public string Push(string delta) => Release(delta, final: false);

    /// <summary>The end of the answer: returns everything still held back (checked).</summary>
    public string Flush() => Release("", final: true);

    private string Release(string delta, bool final)
    {
        if (Blocked) return "";
        _pending += delta;
        var offset = _sent.Length;
        var result = guard.Judge(_sent + _pending, mode, canaries);
        if (result.Blocked)
        {
            Findings.AddRange(result.Findings.Where(f => f.End > offset));
            Blocked = true;
            Canary = result.Canary;
            _pending = "";
            return "";
        }

        var cut = final ? _pending.Length : Cut(_pending, window);
        foreach (var f in result.Findings)
        {
            if (f.Start - offset < cut && f.End - offset > cut) cut = Math.Max(0, f.Start - offset);
        }

        if (cut > 0 && cut < _pending.Length && char.IsHighSurrogate(_pending[cut - 1])) cut--;
        var raw = _pending[..cut];
        var leaving = result.Findings.Where(f => f.End > offset && f.End - offset <= cut)
            .Select(f => f with { Start = Math.Max(0, f.Start - offset), End = f.End - offset }).ToList();
        Findings.AddRange(leaving);
        var sent = _sent + raw;
        _sent = sent.Length > ContextLength ? sent[^ContextLength..] : sent;
        _pending = _pending[cut..];
        return mode == GuardMode.Redact && leaving.Count > 0 ? TextGuard.Redact(raw, leaving) : raw;
    }

    // Where the text that may leave now ends: a window before the newest character, then back to the start of a run of
    // credential characters that goes on across that point, and back to an unfinished PEM block's BEGIN line.
    private static int Cut(string pending, int window)
    {
        var cut = Math.Max(0, pending.Length - window);
        if (cut < pending.Length && IsCredentialChar(pending[cut]))
        {
            var tokenFloor = Math.Max(0, pending.Length - MaxTokenHold);
            while (cut > tokenFloor && IsCredentialChar(pending[cut - 1])) cut--;
        }

        var floor = Math.Max(0, pending.Length - MaxHold);
        var begin = pending.LastIndexOf("-----BEGIN ", StringComparison.Ordinal);
        if (begin < floor || begin >= cut) return cut;
        var end = pending.IndexOf("-----END ", begin, StringComparison.Ordinal);
        return end < 0 || pending.IndexOf("-----", end + 9, StringComparison.Ordinal) < 0 ? begin : cut;
    }

    private static bool IsCredentialChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '+' or '/' or '=' or '~' or '%' or ':' or '@';
}
