using Microsoft.Extensions.Logging;

namespace Drydock.Gateway.Identity;

/// <summary>The identity stage's log events: reasons and subject hashes, never a token or a claim value.</summary>
internal static partial class IdentityLog
{
    [LoggerMessage(30, LogLevel.Warning, "bearer token refused ({Path}): {Reason}")]
    public static partial void Refused(ILogger logger, string path, string reason);

    [LoggerMessage(31, LogLevel.Warning, "bearer token of {Subject} refused ({Path}): {Reason}")]
    public static partial void NotAllowed(ILogger logger, string subject, string path, string reason);
}
