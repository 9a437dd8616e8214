namespace AnomalyClustering.Core.Validation;

/// <summary>
/// Input that the method cannot work on (too few images, K larger than N, NaN or infinity,
/// a negative temperature, mismatched shapes). The message says what is wrong and how to fix it.
/// </summary>
public sealed class InvalidClusteringInputException : ArgumentException
{
    /// <summary>Creates the exception with a message a person can act on.</summary>
    public InvalidClusteringInputException(string message, string? paramName = null)
        : base(message, paramName)
    {
    }
}
