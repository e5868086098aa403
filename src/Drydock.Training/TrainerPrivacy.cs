using System.Text.Json.Nodes;

namespace Drydock.Training;

/// <summary>
/// The ε a finished DP-SGD run spent: the trainer reports what it did (σ, q, C and the steps it took, in metrics.json
/// <c>privacy</c>), and the one accountant (<see cref="PrivacyAccountant"/>) turns that into ε at the plan's δ.
/// </summary>
public static class TrainerPrivacy
{
    /// <summary>The budget spent, or null when the plan asked for no DP; a DP plan whose trainer reports no DP, or other settings than planned, is refused.</summary>
    public static PrivacyBudget? Spent(string planJson, JsonObject? metrics)
    {
        var planned = JsonNode.Parse(planJson)?["privacy"];
        if (planned is null) return null;
        var reported = metrics?["privacy"] ?? throw new PrivacyAccountingException("the plan asks for DP-SGD but the trainer's metrics.json reports no privacy section: the model is not recorded as private");
        double Number(JsonNode node, string key, string where) =>
            node[key] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number ? double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : throw new PrivacyAccountingException($"{where}: field privacy.{key} is missing or not a number");
        var sigma = Number(reported, "noiseMultiplier", "metrics.json");
        var q = Number(reported, "samplingRate", "metrics.json");
        var clip = Number(reported, "maxGradNorm", "metrics.json");
        var steps = (long)Number(reported, "steps", "metrics.json");
        if (sigma < Number(planned, "noiseMultiplier", "plan") || q > Number(planned, "samplingRate", "plan") || clip > Number(planned, "maxGradNorm", "plan"))
        {
            throw new PrivacyAccountingException($"the trainer reports σ = {sigma}, q = {q}, C = {clip}, weaker than the plan's: the model is not recorded as private");
        }

        return PrivacyBudget.Spent(sigma, q, steps, Number(planned, "delta", "plan"), clip);
    }
}
