namespace Drydock.Semantic;

/// <summary>The encoder model or the classification head cannot be used: missing, corrupt or of another version.</summary>
public sealed class SemanticModelException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SemanticModelException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception around its cause.</summary>
    public SemanticModelException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SemanticModelException()
    {
    }
}
