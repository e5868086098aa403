using Drydock.Curation.Policy;
using Drydock.Detection.Configuration;
using Drydock.Detection.Rules;
using Drydock.Evaluation.Gate;
using Drydock.Gateway;
using Drydock.Training;

namespace Drydock.Cli.Infrastructure;

/// <summary>
/// drydock.yaml as a whole: the sections of every owner (policy and project settings, rules, gateway, gate, training)
/// assembled into one shape, so one read checks every key at every level, whichever verb runs.
/// docs/schemas/drydock.schema.json is tested against this shape.
/// </summary>
internal static class ProjectFile
{
    public static MapShape Shape { get; } = ConfigShape.Map(
            ("gateway", GatewayOptions.Shape),
            ("gate", GatePolicy.Shape),
            ("training", TrainingPlan.Shape),
            ("monitor", Gateway.Monitoring.MonitorSettings.Shape),
            ("access", ConfigShape.OneOf("off", "required")))
        .With(PolicyLoader.Sections)
        .With(UserRuleLoader.Sections);

    /// <summary>The empty file: every setting at its default.</summary>
    public static ConfigNode Defaults { get; } = ConfigReader.Parse("(defaults)", "", Shape);

    public static ConfigNode Load(string path) => ConfigReader.Load(path, Shape);
}
