namespace AnomalyClustering.Core.Lines;

/// <summary>A catalog document that cannot be read: not JSON, another format or version, or a field missing or out of range. The message names the field.</summary>
public sealed class InvalidLineCatalogException : Exception
{
    /// <summary>Creates the exception with a message a person can act on.</summary>
    public InvalidLineCatalogException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
