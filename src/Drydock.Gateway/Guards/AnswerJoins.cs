using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Drydock.Detection;
using Drydock.Gateway.Payload;

namespace Drydock.Gateway.Guards;

/// <summary>
/// A value split across the choices of one answer (n &gt; 1) or across several tool calls is whole in none of them, nor
/// in any one choice's texts joined. The texts of the whole answer are judged once more joined in order with no separator,
/// and so are the texts of each kind (every choice's content, every call's arguments, read as the string values they
/// hold) joined in order; a finding that runs across the end of one choice or one tool call is a finding of the answer,
/// which is then refused whole. A value across the texts of one choice or one call is left to the choice's own join
/// (that choice alone is replaced). Each join is judged whole, or in windows around the points where one choice or call
/// gives way to another when it is longer than <see cref="BoundaryWindows.WholeJoinLimit"/>; a join with no such point
/// (one choice, one call) is not judged.
/// </summary>
internal static partial class AnswerJoins
{
    /// <summary>The findings across the end of one choice or one tool call, on the answer's texts as the upstream sent them.</summary>
    public static List<Finding> Across(TextGuard guard, JsonArray choices, GuardedAnswer answer)
    {
        if (!answer.Guarding) return [];
        var pieces = new List<(int Choice, string Call, string Kind, string Text)>();
        for (var i = 0; i < choices.Count; i++)
        {
            foreach (var leaf in JsonStrings.Collect(choices[i], JsonStrings.AnswerStructure))
            {
                var call = CallIndex().Match(leaf.Path);
                var callAt = call.Success ? call.Groups[1].Value : "";
                var kind = Indexes().Replace(leaf.Path, "");
                pieces.Add((i, callAt, kind, leaf.Value));
                if (kind.EndsWith(".arguments", StringComparison.Ordinal)) pieces.Add((i, callAt, kind + "#values", Values(leaf.Value)));
            }
        }

        var found = new List<Finding>();
        Judge(guard, pieces.Where(p => !p.Kind.EndsWith("#values", StringComparison.Ordinal)).ToList(), answer, found);
        foreach (var kind in pieces.Select(p => p.Kind).Distinct()) Judge(guard, pieces.Where(p => p.Kind == kind).ToList(), answer, found);
        return found;
    }

    /// <summary>
    /// The findings across the end of a string outside the choices (a provider's own field, an error's message and its
    /// other fields): the strings outside the choices and the choices' texts are judged joined in order with no
    /// separator, outside first and then the choices, again the choices first, and in the reverse order (a client may
    /// show the fields in any order: these are the orders a page shows them in); a finding that runs across a point
    /// where an outside string begins or ends (<c>x_a: "AKIAQ3EG"</c>, <c>x_b: "RL5TFZ6XW7NB"</c>; or half in
    /// <c>x_note</c>, half in the content) is a finding of the answer. None when no text stands outside the choices.
    /// </summary>
    public static List<Finding> Outside(TextGuard guard, List<StringLeaf> outside, JsonArray? choices, GuardedAnswer answer)
    {
        if (!answer.Guarding || outside.Count == 0) return [];
        var inside = choices is null ? [] : choices.SelectMany(c => JsonStrings.Collect(c, JsonStrings.AnswerStructure)).Select(l => Blanked(guard, l.Value, answer)).ToList();
        if (outside.Count + inside.Count < 2) return [];
        var found = new List<Finding>();
        var first = outside.Select(l => (Outside: true, Value: Blanked(guard, l.Value, answer))).Concat(inside.Select(v => (Outside: false, Value: v))).ToList();
        var last = inside.Select(v => (Outside: false, v)).Concat(outside.Select(l => (Outside: true, l.Value))).ToList();
        var reversed = Enumerable.Reverse(first).ToList();
        foreach (var order in new[] { first, last, reversed })
        {
            var ends = new List<int>();
            var length = 0;
            for (var k = 0; k < order.Count; k++)
            {
                length += order[k].Item2.Length;
                if (k + 1 < order.Count && (order[k].Outside || order[k + 1].Outside)) ends.Add(length);
            }

            answer.TextsChecked++;
            found.AddRange(BoundaryWindows.Across(string.Concat(order.Select(p => p.Item2)), ends, window => guard.Judge(window, answer.Tier.Output, answer.Canaries).Findings));
        }

        return found;
    }

    // The text with what the guard finds in it alone replaced by spaces: a value whole in one string is that string's own
    // finding (redacted there), and must not run on into the next string's first word in the join (an address at the end
    // of an error's message followed by its code).
    private static string Blanked(TextGuard guard, string text, GuardedAnswer answer)
    {
        var own = guard.Judge(text, answer.Tier.Output == GuardMode.Off ? GuardMode.Redact : answer.Tier.Output, answer.Canaries).Findings;
        if (own.Count == 0) return text;
        var chars = text.ToCharArray();
        foreach (var f in own) for (var i = Math.Max(0, f.Start); i < Math.Min(chars.Length, f.End); i++) chars[i] = ' ';
        return new string(chars);
    }

    private static void Judge(TextGuard guard, List<(int Choice, string Call, string Kind, string Text)> pieces, GuardedAnswer answer, List<Finding> found)
    {
        // Only the ends where one choice gives way to another, or one tool call to another, count here.
        var ends = new List<int>();
        var length = 0;
        for (var k = 0; k < pieces.Count; k++)
        {
            length += pieces[k].Text.Length;
            if (k + 1 < pieces.Count && (pieces[k + 1].Choice != pieces[k].Choice || (pieces[k].Call.Length > 0 && pieces[k + 1].Call.Length > 0 && pieces[k + 1].Call != pieces[k].Call))) ends.Add(length);
        }

        if (ends.Count == 0) return;
        answer.TextsChecked++;
        var joined = string.Concat(pieces.Select(p => p.Text));
        found.AddRange(BoundaryWindows.Across(joined, ends, window => guard.Judge(window, answer.Tier.Output, answer.Canaries).Findings));
    }

    // A call's arguments as the string values they hold, in order (a value split across two calls' arguments is whole
    // there, without the JSON around it); arguments that are not JSON are read as they are.
    private static string Values(string arguments)
    {
        try
        {
            var node = JsonNode.Parse(arguments);
            return string.Concat(JsonStrings.Collect(node, new HashSet<string>()).Select(l => l.Value));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON, a key given twice or a name escaping a lone surrogate: each piece was judged as it is.
            return arguments;
        }
    }

    [GeneratedRegex(@"tool_calls\[#?(\d+)\]")]
    private static partial Regex CallIndex();

    [GeneratedRegex(@"\[#?\d+\]")]
    private static partial Regex Indexes();
}
