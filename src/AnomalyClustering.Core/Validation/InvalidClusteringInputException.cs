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

    /// <summary>
    /// The message as a person reads it, without the " (Parameter 'x')" that <see cref="ArgumentException"/> appends:
    /// it reaches the CLI's console, the API's ProblemDetails and the messages of wrapping exceptions as it is.
    /// <see cref="ArgumentException.ParamName"/> still names the offending field.
    /// </summary>
    public override string Message => ParamName is null
        ? base.Message
        : base.Message.Replace($" (Parameter '{ParamName}')", string.Empty, StringComparison.Ordinal);
}
