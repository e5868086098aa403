using System.Globalization;
using System.Text.Json.Nodes;
using Drydock.Provenance.Registry;
using Drydock.Provenance.Signing;

namespace Drydock.Evaluation.Gate;

/// <summary>
/// The gate's <c>max-epsilon</c> check: the ε of differential privacy recorded in the model version's signed statement
/// (<c>privacy.epsilon</c>, computed by the accountant from the steps the trainer took) is at most the limit. A model
/// with no statement, or one trained without DP, fails: a guarantee that was not recorded is not given.
/// </summary>
internal static class PrivacyGate
{
    public static GateCheck Check(ModelRecord model, double maxEpsilon, string observed = "")
    {
        var (epsilon, delta, why) = Read(model);
        if (epsilon is null) return new GateCheck("max-epsilon", false, $"{model.Id}: {why}; at most ε = {F(maxEpsilon)} is required{observed}");
        var passed = epsilon.Value <= maxEpsilon;
        return new GateCheck("max-epsilon", passed, $"privacy.epsilon = {F(epsilon.Value)} at δ = {delta?.ToString("G3", CultureInfo.InvariantCulture) ?? "?"} ({(passed ? "≤" : ">")} {F(maxEpsilon)}; the signed statement of {model.Id}){observed}");
    }

    internal static (double? Epsilon, double? Delta, string Why) Read(ModelRecord model)
    {
        if (string.IsNullOrEmpty(model.Envelope)) return (null, null, "no signed statement is registered for it");
        try
        {
            var envelope = JsonNode.Parse(model.Envelope);
            if ((string?)envelope?["payloadType"] != Dsse.PayloadType || (string?)envelope?["payload"] is not { } payload) return (null, null, "its statement is not an in-toto statement");
            var statement = JsonNode.Parse(Convert.FromBase64String(payload));
            if ((string?)statement?["predicateType"] != Dsse.ModelPredicate) return (null, null, "its statement is not a model-version statement");
            var privacy = statement!["predicate"]?["privacy"];
            if (Number(privacy?["epsilon"]) is not { } epsilon) return (null, null, "it was not trained with differential privacy (its signed statement records no ε)");
            return (epsilon, Number(privacy!["delta"]), "");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            return (null, null, $"its signed statement cannot be read ({e.GetType().Name})");
        }
    }

    private static double? Number(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number ? double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture) : null;

    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
