namespace Drydock.Datasets;

/// <summary>A whole input could not be read (missing, unknown format, corrupt container).</summary>
public sealed class DatasetException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DatasetException(string file, string message, Exception? inner = null)
        : base($"{file}: {message}", inner)
    {
        File = file;
        Reason = message;
    }

    /// <summary>The input that failed.</summary>
    public string File { get; }

    /// <summary>What went wrong, without the file name.</summary>
    public string Reason { get; }
}
