using Drydock.Detection.Configuration;
using Drydock.Provenance;
using Drydock.Provenance.Registry;
using Drydock.Provenance.ThreatModels;
using Drydock.Provenance.Vault;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// The one mapping from the failures a verb reports to a message on stderr and an exit code (DESIGN.md): bad input,
/// a refused setting, an unreadable file or registry exit 2 with the message (which names the file, line and field);
/// a failed approval gate or a broken vault integrity code exit 1. Any other exception is a bug and propagates.
/// </summary>
internal static class CommandErrors
{
    /// <summary>Runs a verb body, turning known failures into a message on stderr and an exit code.</summary>
    public static async Task<int> Run(string verb, TextWriter stderr, Func<Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception e) when (Known(e))
        {
            return Report(verb, stderr, e);
        }
    }

    /// <summary>
    /// Reads <paramref name="what"/> with <paramref name="read"/>; a known failure is rethrown with the input's name
    /// in front of its message (<c>redaction key: …</c>), to be reported as any other (<see cref="Report"/>).
    /// </summary>
    public static T Reading<T>(string what, Func<T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            return read();
        }
        catch (Exception e) when (Input(e) && e is not InputException)
        {
            throw new InputException($"{what}: {e.Message}", e);
        }
    }

    /// <summary>Whether <paramref name="e"/> is a failure verbs report (see <see cref="Report"/>) rather than a bug.</summary>
    public static bool Known(Exception e) => e is GateException or VaultIntegrityException || Refusal(e) || Input(e);

    /// <summary>Writes <paramref name="e"/>'s message for <c>drydock <paramref name="verb"/></c> and returns its exit code.</summary>
    public static int Report(string verb, TextWriter stderr, Exception e)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(e);
        switch (e)
        {
            case GateException gate:
                stderr.WriteLine($"drydock {verb}: refused; the gate failed:");
                foreach (var reason in gate.Reasons) stderr.WriteLine($"  - {reason}");
                return ExitCodes.Findings;
            case VaultIntegrityException:
                stderr.WriteLine($"drydock {verb}: integrity check failed: {e.Message}");
                return ExitCodes.Findings;
            default:
                stderr.WriteLine($"drydock {verb}: {(Refusal(e) ? "refused: " : "")}{e.Message}");
                return ExitCodes.UsageOrInput;
        }
    }

    // Refused before anything ran: no isolation for the trainer, a gate policy that cannot decide.
    private static bool Refusal(Exception e) => e is Training.Runs.IsolationUnavailableException or Evaluation.Gate.GateRefusedException;

    // Bad input or an unreadable file, registry or key: the message says which.
    private static bool Input(Exception e) =>
        e is ArgumentException or IOException or UnauthorizedAccessException or FormatException or System.Text.Json.JsonException or System.Data.Common.DbException
        or ConfigFileException or RegistryException or ThreatModelException or KeyRingException or Datasets.DatasetException or Curation.CleanException
        or Training.TrainingPlanException or Training.PrivacyAccountingException
        or Evaluation.Probes.ProbeSuiteException or Evaluation.ResultsTamperedException or Evaluation.Targets.LogprobsUnavailableException
        or Gateway.GatewayConfigException or Semantic.SemanticModelException or Curation.Review.ReviewDecisionException or InputException;
}

/// <summary>A known failure reading one of a verb's inputs, its message prefixed with the input's name (<see cref="CommandErrors.Reading"/>).</summary>
internal sealed class InputException(string message, Exception inner) : Exception(message, inner);
