namespace Drydock.Provenance.Registry;

/// <summary>The registry's ids, one definition each: the first 12 hex digits of what the record is.</summary>
public static class RegistryIds
{
    /// <summary>A dataset version's id: <c>ds-</c> and the first 12 hex digits of its SHA-256.</summary>
    public static string Dataset(string version)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        return "ds-" + version[..12];
    }

    /// <summary>A model version's id: <c>mv-</c> and the first 12 hex digits of its digest.</summary>
    public static string Model(string digest)
    {
        ArgumentException.ThrowIfNullOrEmpty(digest);
        return "mv-" + digest[..12];
    }
}
