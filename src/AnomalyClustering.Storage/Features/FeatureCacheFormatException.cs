namespace AnomalyClustering.Storage;

/// <summary>Bytes that should be a <see cref="PatchBagFormat"/> patch bag are not one: wrong magic, unknown version, truncated, or corrupted.</summary>
public sealed class FeatureCacheFormatException : IOException
{
    /// <summary>An error saying what is wrong with the data and what to do about it.</summary>
    public FeatureCacheFormatException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
