namespace Drydock.Detection.Analyzers;

/// <summary>
/// A second, costlier stage for injection: judges the texts that the cheap first stage (pattern rules, cue words, the
/// n-gram classifier) sends it. Implementations are thread-safe; an empty or whitespace-only text costs nothing.
/// </summary>
public interface IInjectionJudge
{
    /// <summary>The probability at or above which a text is reported as an injection.</summary>
    float Threshold { get; }

    /// <summary>The probability below which the first stage's findings on a text are withdrawn.</summary>
    float Veto { get; }

    /// <summary>The probability that the text is an injection or jailbreak, and the character range that scored it.</summary>
    InjectionJudgement Judge(string text);
}

/// <summary>A judge's verdict on one text: its probability and the span (a window of the text) that gave it.</summary>
public readonly record struct InjectionJudgement(float Probability, int Start, int End);
