namespace AnomalyClustering.Core.Validation;

/// <summary>Messages of argument errors as a person reads them, for the CLI and the HTTP API alike.</summary>
public static class ArgumentExceptionExtensions
{
    /// <summary>
    /// The message without the " (Parameter 'x')" that <see cref="ArgumentException"/> appends: a user of the CLI or the
    /// API named no parameter.
    /// </summary>
    public static string MessageWithoutParameterName(this ArgumentException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.ParamName is null
            ? exception.Message
            : exception.Message.Replace($" (Parameter '{exception.ParamName}')", string.Empty, StringComparison.Ordinal);
    }
}
