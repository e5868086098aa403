using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Monitoring;

/// <summary>The gateway's structured log events: ids, scores and decisions only, never prompt or answer text.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(1, LogLevel.Error, "request failed: {Error}")]
    public static partial void RequestFailed(ILogger logger, string error);

    [LoggerMessage(2, LogLevel.Warning, "extraction abuse: key {Key} score {Score} signals {Signals}; throttled; incident {Incident}")]
    public static partial void Abuse(ILogger logger, string key, double score, string signals, string? incident);

    [LoggerMessage(3, LogLevel.Critical, "canary tripwire: model {Model} key {Key}; answer blocked; incident {Incident}")]
    public static partial void CanaryTripped(ILogger logger, string model, string key, string? incident);

    [LoggerMessage(4, LogLevel.Error, "could not record an incident: {Error}")]
    public static partial void RecordFailed(ILogger logger, string error);

    [LoggerMessage(5, LogLevel.Warning, "containment: model {Alias} {State} by {Actor}; incident {Incident}")]
    public static partial void Contained(ILogger logger, string alias, string state, string actor, string incident);

    [LoggerMessage(6, LogLevel.Error, "monitoring signal not recorded: {Error}")]
    public static partial void SignalFailed(ILogger logger, string error);

    [LoggerMessage(7, LogLevel.Critical, "regurgitation tripwire: model {Model} key {Key}; an answer repeated training records {Records}; answer {Action}; incident {Incident}")]
    public static partial void Regurgitation(ILogger logger, string model, string key, string records, string action, string? incident);

    [LoggerMessage(8, LogLevel.Error, "regurgitation tripwire unavailable for model {Model}: {Reason}; answered 503 (the tier requires the tripwire)")]
    public static partial void TripwireUnavailable(ILogger logger, string model, string reason);
}
