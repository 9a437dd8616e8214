namespace AnomalyClustering.Embedding.Backbones;

/// <summary>A backbone description that cannot be used: missing model file, names not in the model, bad preprocessing.</summary>
public sealed class BackboneConfigurationException : Exception
{
    /// <summary>Creates the error with a message that says what is wrong and how to fix the description.</summary>
    public BackboneConfigurationException(string message) : base(message)
    {
    }

    /// <summary>Creates the error around the failure that caused it.</summary>
    public BackboneConfigurationException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
