namespace Drydock.Provenance;

/// <summary>Who is acting: <c>DRYDOCK_ACTOR</c>, else the operating-system user.</summary>
public static class Actor
{
    /// <summary>The current actor.</summary>
    public static string Current => Environment.GetEnvironmentVariable("DRYDOCK_ACTOR") is { Length: > 0 } actor ? actor.Trim() : Environment.UserName;
}
