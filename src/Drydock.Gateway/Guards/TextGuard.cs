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
/// The detection engine as a guard. Every text is matched as <see cref="MatchText"/> normalises it (NFKC, invisible and
/// bidi characters, soft hyphens, tag characters and variation selectors removed; combining marks on Latin letters
/// read both ways, with and without them), and spans are mapped back to the
/// original, so a value written with look-alike or invisible characters is found and its whole original span redacted.
/// On prompts: pasted secrets, prompt injection (high or critical blocks, medium is flagged) and hidden text on the
/// original (tag smuggling, bidi controls, runs of invisible characters: high or critical blocks). On answers:
/// personal data, secrets, registered canaries, and characters that are not text (a lone surrogate, U+FFFD).
/// Redaction replaces a value with its typed placeholder (<c>[EMAIL]</c>); a canary blocks the answer whatever the tier says.
/// </summary>
public sealed class TextGuard(Detector detector, IInjectionJudge? judge = null)
{
    private static readonly Finding s_semanticTemplate = new("DD-INJ-011", Categories.Injection, "semantic-injection", Severity.High, 0, 0, 0, "");

    /// <summary>What the input guard looks for (for the <c>x-drydock-guard</c> header and the request log).</summary>
    internal const string InputDetectors = "secret,injection,hidden-text";

    /// <summary>What the output guard looks for besides registered canaries.</summary>
    internal const string OutputDetectors = "pii,secret,invalid-encoding";

    /// <summary>
    /// Checks a prompt: pasted secrets, prompt injection of high or critical severity and hidden text of high or critical
    /// severity block it in <c>block</c> mode; injection and hidden text of medium severity are flagged, never blocked.
    /// </summary>
    public GuardResult Input(string text, GuardMode mode) => Input(text, mode, semantic: false);

    /// <summary>
    /// Checks a prompt as <see cref="Input(string, GuardMode)"/> does; with <paramref name="semantic"/>, the injection judge
    /// also judges the whole prompt: at or above its threshold it is a high-severity injection, and below its veto the
    /// first stage's injection findings are withdrawn (a prompt that talks about instructions without being one).
    /// </summary>
    public GuardResult Input(string text, GuardMode mode, bool semantic)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (mode == GuardMode.Off) return new GuardResult(false, text, []);
        var findings = new List<Finding>();
        var found = Scan(text, null, out var match);
        foreach (var f in found)
        {
            if (f.Category == Categories.Secret || (f.Category == Categories.Injection && f.Severity >= Severity.Medium)
                || (!match.Changed && f.Category == Categories.HiddenText && f.Severity >= Severity.Medium))
            {
                findings.Add(f);
            }
        }

        // What normalising removed is hidden text: judged on the original, where it is (JSON escapes read, as in tool
        // call arguments: spans then count characters of the unescaped text, for the finding's type only).
        if (match.Changed) findings.AddRange(detector.Scan(MatchText.Unescaped(text)).Where(f => f.Category == Categories.HiddenText && f.Severity >= Severity.Medium));
        findings.AddRange(Invalid(match));
        if (semantic)
        {
            if (judge is null) throw new InvalidOperationException("The semantic input guard was asked for, but no injection judge was given.");
            // The judge reads the prompt as the first stage does (look-alike letters read as Latin, compatibility forms
            // folded): a persona written in Cyrillic look-alikes is not gibberish that vetoes the first stage's finding.
            var reading = InjectionAnalyzer.ReadingOf(match.Text);
            var verdict = judge.Judge(reading);
            if (reading.Length != match.Text.Length) verdict = verdict with { Start = 0, End = match.Text.Length };
            if (verdict.Probability < judge.Veto)
            {
                findings.RemoveAll(f => f.Category == Categories.Injection);
            }
            else if (verdict.Probability >= judge.Threshold && !findings.Any(f => f.Category == Categories.Injection && f.Severity >= Severity.High))
            {
                findings.Add(match.ToOriginal(s_semanticTemplate with
                {
                    Start = verdict.Start,
                    End = verdict.End,
                    Confidence = Math.Round(Math.Min(0.99, verdict.Probability), 2),
                    Excerpt = $"semantic score {verdict.Probability:0.00}",
                }));
            }
        }

        var blocking = findings.Any(f => f.Category == Categories.Secret || f.Severity >= Severity.High);
        return new GuardResult(mode == GuardMode.Block && blocking, text, findings);
    }

    /// <summary>Checks an answer.</summary>
    public GuardResult Output(string text, GuardMode mode, CanaryAnalyzer? canaries = null)
    {
        var verdict = Judge(text, mode, canaries);
        if (verdict.Blocked || mode != GuardMode.Redact || verdict.Findings.Count == 0) return verdict;

        // The detector reports values that do not overlap, so a value overlapping a found one (two address-like runs
        // sharing characters) is whole only once the found one is gone. The text is judged again with what was found
        // blanked out (spaces keep every position), and what that finds joins the redaction, where overlapping spans
        // are replaced by their union; a few passes at most, then the answer is blocked (fail closed).
        return WithOverlaps(text, verdict.Findings, canaries) is { } findings
            ? verdict with { Text = Redact(text, findings), Findings = findings }
            : new GuardResult(true, text, Judge(Blank(text, verdict.Findings), GuardMode.Redact, canaries).Findings.Concat(verdict.Findings).ToList());
    }

    // The findings to redact: the found ones and the values overlapping them (judged again with the found ones blanked
    // out, until nothing more shows); null when a canary shows or values still show after MaxRedactionPasses (block).
    internal List<Finding>? WithOverlaps(string text, IReadOnlyList<Finding> found, CanaryAnalyzer? canaries, List<Finding>? blocking = null)
    {
        var findings = found.ToList();
        for (var pass = 0; pass < MaxRedactionPasses; pass++)
        {
            var again = Judge(Blank(text, findings), GuardMode.Redact, canaries);
            if (again.Blocked)
            {
                blocking?.AddRange(again.Findings);
                return null;
            }

            var more = again.Findings.Where(f => !findings.Exists(g => g.Start <= f.Start && f.End <= g.End && g.Type == f.Type)).ToList();
            if (more.Count == 0) return findings;
            findings.AddRange(more);
        }

        return null;
    }

    // How many times a redacted answer is judged again before the guard gives up and blocks it.
    private const int MaxRedactionPasses = 4;

    // The text with every finding's span replaced by spaces, position for position.
    private static string Blank(string text, IEnumerable<Finding> findings)
    {
        var chars = text.ToCharArray();
        foreach (var f in findings)
        {
            for (var i = Math.Max(0, f.Start); i < Math.Min(chars.Length, f.End); i++) chars[i] = ' ';
        }

        return new string(chars);
    }

    // The verdict on an answer without redacting it (the stream guard redacts only the part that leaves).
    // A stream's text is read with every reference link shape as a link (definitionsMayFollow): its definition may arrive
    // after the link has left.
    internal GuardResult Judge(string text, GuardMode mode, CanaryAnalyzer? canaries, bool definitionsMayFollow = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var found = Scan(text, canaries, out var match, definitionsMayFollow);
        List<Finding> findings = mode == GuardMode.Off ? [] : found.FindAll(f => f.Category is Categories.Pii or Categories.Secret);
        if (mode != GuardMode.Off) findings.AddRange(Invalid(match));
        var tripped = found.FindAll(f => f.Category == Categories.Canary);
        if (tripped.Count > 0) return new GuardResult(true, text, [.. tripped, .. findings]);
        return new GuardResult(mode == GuardMode.Block && findings.Count > 0, text, findings);
    }

    /// <summary>Every finding of the detector and of <paramref name="canaries"/> in a text, on its original span.</summary>
    internal List<Finding> Findings(string text, CanaryAnalyzer? canaries)
    {
        var found = Scan(text, canaries, out var match);
        return [.. found, .. Invalid(match)];
    }

    // The findings of the detector and of canaries on the text as MatchText reads it, on original spans; when combining
    // marks are written on Latin letters, read once more without them (a mark inside a key hides it from its pattern,
    // while the composed reading keeps "é" for the rules that read accented words); when invisible characters are
    // removed, read once more with them as spaces (removing one between two values joins them into one word, and a
    // pattern that ends at a word boundary then finds neither); when tag characters are written, read once more with
    // each as the ASCII character it stands for (a value smuggled in them is the value to whoever decodes them); and,
    // when it holds markup, references, backslash escapes or a markdown link, as a page renders it (tags, comments and
    // hidden elements removed, references and escapes decoded, a link read as its text: maria.lopez<b>@</b>fastmail.com,
    // AKIAQ3EG&shy;RL5T…, <b>TA76</b>-<b>9W5X</b>-…, Ign<b></b>ore all…, [Ign](x)ore all…; see RenderedText), for every
    // rule and canaries, prompts and answers alike: an instruction is read in whole sentences, which the detector's
    // markup runs (one word each, enough for a key) do not give.
    private List<Finding> Scan(string text, CanaryAnalyzer? canaries, out MatchText match, bool definitionsMayFollow = false)
    {
        match = MatchText.Of(text);
        var found = Scan(match, canaries);
        if (match.MarkedLatin) Union(found, Scan(MatchText.Of(text, stripMarks: true), canaries));
        if (match.Changed && MatchText.InvisibleAsSpace(text) is { } spaced) Union(found, Scan(MatchText.Of(spaced), canaries));
        if (EncodedText.TagsRead(text) is { } tags) Union(found, Scan(MatchText.Of(tags), canaries).ConvertAll(f => WholePairs(text, f)));
        if (RenderedText.Read(text, definitionsMayFollow) is { } rendered) Union(found, Scan(MatchText.Of(rendered.Text), canaries).ConvertAll(rendered.Widen));
        return found;
    }

    // The finding on whole characters of text: a span that starts or ends inside a surrogate pair (a tag character read
    // as its ASCII character and a zero-width space) takes all of it.
    private static Finding WholePairs(string text, Finding finding)
    {
        var start = finding.Start;
        var end = finding.End;
        if (start > 0 && start < text.Length && char.IsLowSurrogate(text[start]) && char.IsHighSurrogate(text[start - 1])) start--;
        if (end > 0 && end < text.Length && char.IsLowSurrogate(text[end]) && char.IsHighSurrogate(text[end - 1])) end++;
        return start == finding.Start && end == finding.End ? finding : finding with { Start = start, End = end };
    }

    private static void Union(List<Finding> found, List<Finding> more)
    {
        foreach (var f in more)
        {
            if (!found.Exists(g => g.Start == f.Start && g.End == f.End && g.Type == f.Type)) found.Add(f);
        }
    }

    private List<Finding> Scan(MatchText match, CanaryAnalyzer? canaries)
    {
        List<Finding>? found = [.. detector.Scan(match.Text)];
        canaries?.Analyze(match.Text, ref found);
        if (canaries is not null) EncodedCanaries.Find(match.Text, canaries, ref found);
        return found!.ConvertAll(match.ToOriginal);
    }

    /// <summary>Redacts every finding of the detector and of <paramref name="canaries"/> (for the request log).</summary>
    internal string RedactAll(string text, CanaryAnalyzer? canaries) => Redact(text, Findings(text, canaries));

    // Characters that cannot be text (a lone surrogate, U+FFFD left by a failed decoding): a finding of their own.
    private static IEnumerable<Finding> Invalid(MatchText match) =>
        match.InvalidAt.Select(i => new Finding("DD-ENC-001", Categories.HiddenText, "invalid-encoding", Severity.High, i, i + 1, 1.0, "⟨invalid⟩"));

    /// <summary>
    /// Replaces each finding's span with <c>[TYPE]</c>. An e-mail address found from inside its name (after an escape
    /// or a separator a reading decoded: <c>maria.lopez%40…</c>, <c>maria\_lopez@…</c>) is replaced from the start of
    /// the name, so no part of it is left beside the placeholder (<c>maria.[EMAIL]</c>).
    /// </summary>
    public static string Redact(string text, IEnumerable<Finding> findings) =>
        SpanReplacement.Apply(text, findings.Select(f => (f.Type == "email" ? NameStart(text, f.Start) : f.Start, f.End, $"[{f.Type.ToUpperInvariant().Replace('-', '_')}]")));

    // Where the name of an address found at start begins: back over the characters a name (and its escapes) is written
    // with, at most MaxNameWidening characters. A \uXXXX or \xXX escape counts by the character it stands for, so an
    // escaped space or colon before the address ends the name as the plain one does.
    private static int NameStart(string text, int start)
    {
        var at = Math.Min(start, text.Length);
        while (at > 0 && start - at < MaxNameWidening)
        {
            if (EscapeBefore(text, at, 'u', 4) is { } u) { if (!IsNameChar(u)) break; at -= 6; }
            else if (EscapeBefore(text, at, 'x', 2) is { } x) { if (!IsNameChar(x)) break; at -= 4; }
            else if (IsNameChar(text[at - 1]) || text[at - 1] == '\\') at--;
            else break;
        }

        return at;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '%' or '+' or '-';

    // The character a backslash escape (\ then marker then digits hex digits) ending at end stands for; null when there is none.
    private static char? EscapeBefore(string text, int end, char marker, int digits)
    {
        var from = end - digits - 2;
        if (from < 0 || text[from] != '\\' || text[from + 1] != marker) return null;
        return int.TryParse(text.AsSpan(from + 2, digits), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var code) ? (char)code : null;
    }

    // The longest name part of an address (RFC 5321: 64 characters), escapes included twice over.
    private const int MaxNameWidening = 128;
}

/// <summary>
/// The output guard for a stream: text is emitted only once it is at least <c>window</c> characters behind the
/// newest text, so a value split across chunks is whole in the held-back buffer before any of it leaves. Values
/// longer than the window are held whole too: a run of credential characters (ASCII letters, digits and
/// <c>-_.+/=~%:@</c>) still open at the cut waits up to <see cref="MaxHold"/> characters, a run of single characters or
/// hex pairs with a separator between them (a value spaced out, which the detector decodes) up to
/// <see cref="MaxTokenHold"/>, a PEM block whose END line has not arrived up to <see cref="MaxHold"/> (a private key block still open beyond that refuses the answer; one
/// that the stream ends without an END line is judged as a key cut off, BEGIN line to the end of its base64 body), and a
/// finding that runs across the cut stays on the held side. The held text is kept as it arrived and judged again with
/// every chunk while it is short, and every 256 characters or eighth of itself once it is longer than 1,024 (a value that
/// is still arriving can look like a shorter one of another type); only what leaves is redacted, judged with the last
/// characters sent before it as context.
/// </summary>
public sealed class StreamGuard(TextGuard guard, GuardMode mode, int window, CanaryAnalyzer? canaries = null)
{
    // With canaries registered, at least the longest code with its separators is held: no part of one is ever sent.
    private readonly int _window = canaries is { Count: > 0 } ? Math.Max(window, CanaryAnalyzer.MaxCodeLength) : window;

    /// <summary>The most characters held back for an unfinished key block (the key patterns' own bound).</summary>
    public const int MaxHold = 16_400;

    /// <summary>
    /// The most characters held back for an unfinished run of single characters or hex pairs with separators, or of
    /// base64 wrapped across lines. A run of credential characters with nothing between them (a JWT, which its rule
    /// matches up to 14,008 characters long) is held up to <see cref="MaxHold"/>: held only this far, the front of a
    /// longer token left before its rule could see it whole.
    /// </summary>
    public const int MaxTokenHold = 4_096;

    // Characters already sent that are scanned again in front of the held text, so that context words ("my name
    // is", "password:") and the start of a value are seen with the rest; never sent twice.
    private const int ContextLength = 64;

    private string _pending = "";
    private string _sent = "";

    // The regurgitation tripwire's view: the last characters sent (as the upstream wrote them, or with the marker where
    // they were redacted) in front of the held text, so a run that began in text already sent is still seen whole.
    private string _tripSent = "";
    private bool _flagged;
    private int _tripHold;

    /// <summary>The regurgitation tripwire of the answer, when the tier checks it (it then holds back at least <see cref="RegurgitationGuard.Hold"/> characters).</summary>
    internal RegurgitationGuard? Tripwire { get; init; }

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

    // Held text longer than this is judged again only once it has grown by JudgeStep characters or an eighth of itself,
    // whichever is more (and at the end): a block held whole and sent one character a chunk costs a few dozen judgements
    // instead of one per character. Nothing leaves unjudged; only the time at which held text may leave moves.
    private const int LongHeld = 1_024;
    private const int JudgeStep = 256;
    private int _judgedAt;

    private string Release(string delta, bool final)
    {
        if (Blocked) return "";
        _pending += delta;
        if (!final && _pending.Length > LongHeld && _pending.Length - _judgedAt < Math.Max(JudgeStep, _pending.Length / 8)) return "";
        var released = Judged(final);
        _judgedAt = _pending.Length;
        return released;
    }

    private string Judged(bool final)
    {
        if (Tripwire is not null && Regurgitated(final))
        {
            Blocked = true;
            _pending = "";
            return "";
        }

        var offset = _sent.Length;
        var result = guard.Judge(_sent + _pending, mode, canaries, definitionsMayFollow: true);
        if (result.Blocked)
        {
            Findings.AddRange(result.Findings.Where(f => f.End > offset));
            Blocked = true;
            Canary = result.Canary;
            _pending = "";
            return "";
        }

        if (mode == GuardMode.Redact && result.Findings.Count > 0)
        {
            // Values overlapping a found one are redacted with it, as in the one-shot guard; when they do not settle, block.
            var blocking = new List<Finding>();
            if (guard.WithOverlaps(_sent + _pending, result.Findings, canaries, blocking) is not { } resolved)
            {
                // A canary that shows only once the values around it are blanked out is still the tripwire.
                Findings.AddRange(result.Findings.Concat(blocking).Where(f => f.End > offset));
                Canary = blocking.Exists(f => f.Category == Categories.Canary);
                Blocked = true;
                _pending = "";
                return "";
            }

            result = result with { Findings = resolved };
        }

        var overlong = -1;
        var cut = final ? _pending.Length : Cut(_pending, Tripwire is null ? _window : Math.Max(_window, RegurgitationGuard.Hold), out overlong);
        if (!final && overlong >= 0)
        {
            // A key block still open after more characters than any key a rule matches: it can neither be held longer nor
            // judged whole, so the answer is refused (fail closed) rather than its BEGIN line and body sent.
            Findings.Add(new Finding("DD-SEC-040", Categories.Secret, "private-key", Severity.Critical, overlong, _pending.Length, 0.9,
                $"unfinished key block longer than {MaxHold} characters"));
            Blocked = true;
            _pending = "";
            return "";
        }

        if (Tripwire is not null) cut = Math.Min(cut, _tripHold);
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
        _sent = Tail(sent);
        if (Tripwire is not null) _tripSent = TripTail(_tripSent + raw);
        _pending = _pending[cut..];
        return mode == GuardMode.Redact && leaving.Count > 0 ? TextGuard.Redact(raw, leaving) : raw;
    }

    // The tripwire on the text seen so far: true when the answer is to be blocked (the tier blocks and a run of a record
    // reached the held text). A redacting tier has each run that has ended replaced by the marker; a run still going on
    // at the newest text is held from its start until it ends (or the stream does), so the marker covers all of it as
    // in a whole answer — one held longer than MaxHold blocks, as its continuation could not be redacted with it. A
    // flagging tier records the first hit and checks no further. Sets _tripHold, where the text the tripwire holds
    // back starts in _pending: the last n + k − 1 words (a run may begin there) or an open run's start.
    private bool Regurgitated(bool final)
    {
        var index = Tripwire!.Index;
        _tripHold = final ? _pending.Length : Math.Max(index.HoldFrom(_pending), _pending.Length - MaxHold);
        if (_flagged) return false;

        // Each pass replaces one run with the marker; a text that still holds a run after as many passes as it has characters is blocked.
        for (var passes = 0; passes <= _pending.Length; passes++)
        {
            var seen = _tripSent + _pending;
            if (index.Find(seen) is not { } hit || hit.End <= _tripSent.Length) return false;
            var from = Math.Max(0, hit.Start - _tripSent.Length);
            if (Tripwire.Mode == RegurgitationMode.Redact && !final && RegurgitationIndex.MayGoOn(seen, hit.End))
            {
                if (_pending.Length - from <= MaxHold)
                {
                    _tripHold = Math.Min(_tripHold, from);
                    return false;
                }

                Tripwire.Hits.Add(hit);
                return true;
            }

            Tripwire.Hits.Add(hit);
            if (Tripwire.Mode == RegurgitationMode.Block) return true;
            if (Tripwire.Mode == RegurgitationMode.Flag)
            {
                _flagged = true;
                return false;
            }

            _pending = string.Concat(_pending.AsSpan(0, from), RegurgitationGuard.Marker, _pending.AsSpan(hit.End - _tripSent.Length));
            _tripHold = final ? _pending.Length : Math.Max(index.HoldFrom(_pending), _pending.Length - MaxHold);
        }

        return true;
    }

    private static string TripTail(string sent) => sent.Length <= 512 ? sent : sent[^512..];

    // Where the text that may leave now ends: a window before the newest character, then back to the start of a run of
    // credential characters that goes on across that point, and back to an unfinished PEM block's BEGIN line. A JSON
    // escape (\uXXXX, as in a tool call's arguments) is one character here, the one it stands for: it counts once in
    // the window, belongs to a credential run when that character does, and is never cut.
    private static int Cut(string pending, int window, out int overlong)
    {
        overlong = -1;
        var (units, decoded, unitAt) = Units(pending);

        // The window counts characters that are seen: invisible ones (removed before matching) do not shorten it.
        var u = units.Count;
        for (var seen = 0; u > 0 && seen < window; u--)
        {
            if (!units[u - 1].Invisible) seen++;
        }

        if (u < units.Count && units[u].Credential)
        {
            var tokenFloor = Math.Max(0, pending.Length - MaxHold);
            while (u > 0 && units[u - 1].Start >= tokenFloor && units[u - 1].Credential) u--;
        }

        var cut = u < units.Count ? units[u].Start : pending.Length;

        // A value spaced out (A K I A …, 41 4b 49 …) that is still arriving is held whole, as a token is.
        var spaced = EncodedText.OpenSeparatedRun(pending);
        if (spaced >= 0 && spaced < cut && spaced >= pending.Length - MaxTokenHold) cut = spaced;

        // A value in groups joined by separator runs (AKIA -- Q3EG -- …, ghp_u8jz - Pde0 - …) still arriving: held whole.
        var grouped = EncodedText.OpenGroupedRun(pending, MaxTokenHold);
        if (grouped >= 0 && grouped < cut) cut = grouped;

        // A word the rendered reading may still join (markup, references or escapes in it: AKIA<span …></span>Q3EG…,
        // \x67\x68…, &#103&#104…, \147\150…, AKIA<!-- still open) that may still go on: held whole, as that reading and
        // the escapes reading read it whole, up to MaxTokenHold characters, then judged as the whole answer is.
        var rendered = RenderedText.OpenWord(pending, MaxTokenHold);
        if (rendered >= 0 && rendered < cut) cut = rendered;

        // Base64 wrapped across lines (MIME) that may still go on: held whole, as a token is, until a line ends the run.
        var wrapped = EncodedText.OpenWrappedRun(pending, MaxTokenHold);
        if (wrapped >= 0 && wrapped < cut) cut = wrapped;
        var floor = Math.Max(0, pending.Length - MaxHold);
        var b = decoded.LastIndexOf("-----BEGIN ", StringComparison.Ordinal);
        if (b < 0) return cut;
        var begin = units[unitAt[b]].Start;
        if (begin >= cut) return cut;
        var end = decoded.IndexOf("-----END ", b, StringComparison.Ordinal);
        var open = end < 0 || decoded.IndexOf("-----", end + 9, StringComparison.Ordinal) < 0;
        var line = decoded.IndexOf('\n', b);
        var header = decoded.AsSpan(b, (line < 0 ? decoded.Length : line) - b);
        if (open && begin < floor && header.Contains("PRIVATE KEY", StringComparison.Ordinal)) overlong = begin;
        return open && begin >= floor ? begin : cut;
    }

    // Where the last ContextLength characters (as the matcher sees them) of text already sent start.
    private static string Tail(string sent)
    {
        if (sent.Length <= ContextLength) return sent;
        var (units, _, _) = Units(sent);
        return units.Count <= ContextLength ? sent : sent[units[^ContextLength].Start..];
    }

    // The text as the characters the matcher sees: a surrogate pair, a JSON escape (or an escaped surrogate pair) and an
    // unfinished escape at the end (held: it may be the start of a value) are one unit each.
    private static (List<(int Start, bool Invisible, bool Credential)> Units, string Decoded, List<int> UnitAt) Units(string text)
    {
        var units = new List<(int, bool, bool)>(text.Length);
        var decoded = new StringBuilder(text.Length);
        var unitAt = new List<int>(text.Length);
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            int width;
            int cp;
            if (c == '\\' && Escaped(text, i) is { } unit)
            {
                width = 6;
                cp = unit;
                if (char.IsHighSurrogate(unit) && Escaped(text, i + 6) is { } low && char.IsLowSurrogate(low))
                {
                    width = 12;
                    cp = char.ConvertToUtf32(unit, low);
                }
            }
            else if (c == '\\' && UnfinishedEscape(text, i))
            {
                units.Add((i, false, true));
                decoded.Append('\\');
                unitAt.Add(units.Count - 1);
                break;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                width = 2;
                cp = char.ConvertToUtf32(c, text[i + 1]);
            }
            else
            {
                width = 1;
                cp = c;
            }

            var invisible = cp >= 0x10000 ? MatchText.IsIgnorable(cp) : char.IsSurrogate((char)cp) ? cp == 0xDB40 : MatchText.IsIgnorable(cp) || cp == 0xFFFD;

            // A Cyrillic or Greek look-alike letter reads as its Latin letter (the detector folds it): "-----BЕGIN" with a
            // Cyrillic Е opens a key block, and "АКІА…" is a run of credential characters; so is a digit look-alike or a
            // digit of another script inside a value ("AKIAЗ…", "AKIA୩…").
            if (cp is >= 0x80 and < 0x10000) cp = LookAlikes.IsLookAlike((char)cp) ? LookAlikes.Latin((char)cp) : LookAlikes.Digit((char)cp) ?? cp;
            var credential = invisible || (cp < 0x80 && (char.IsAsciiLetterOrDigit((char)cp) || cp is '-' or '_' or '.' or '+' or '/' or '=' or '~' or '%' or ':' or '@'));
            units.Add((i, invisible, credential));

            // An invisible character is removed for matching, and so from the decoded text: "-----BEG\u200BIN" opens a key
            // block as "-----BEGIN" does.
            if (!invisible)
            {
                if (cp >= 0x10000)
                {
                    decoded.Append(char.ConvertFromUtf32(cp));
                    unitAt.Add(units.Count - 1);
                }
                else
                {
                    decoded.Append((char)cp);
                }

                unitAt.Add(units.Count - 1);
            }

            i += width;
        }

        return (units, decoded.ToString(), unitAt);
    }

    private static char? Escaped(string text, int i) =>
        i + 5 < text.Length && text[i] == '\\' && text[i + 1] == 'u'
        && ushort.TryParse(text.AsSpan(i + 2, 4), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var value) ? (char)value : null;

    // A backslash at the end that may still become an escape: "\", "\u", "\u0" ... with hex digits only.
    private static bool UnfinishedEscape(string text, int i)
    {
        if (text.Length - i > 5) return false;
        if (i + 1 < text.Length && text[i + 1] != 'u') return false;
        for (var k = i + 2; k < text.Length; k++) if (!char.IsAsciiHexDigit(text[k])) return false;
        return true;
    }
}
