namespace AnomalyClustering.Embedding.Onnx;

/// <summary>An ONNX model that cannot be read or edited as asked: not an ONNX file, an unknown tensor name, and the like.</summary>
public sealed class OnnxModelException : Exception
{
    /// <summary>Creates the error with a message that says what is wrong and what to do.</summary>
    public OnnxModelException(string message) : base(message)
    {
    }

    /// <summary>Creates the error around the failure that caused it.</summary>
    public OnnxModelException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
