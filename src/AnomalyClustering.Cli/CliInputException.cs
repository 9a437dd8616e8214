namespace AnomalyClustering.Cli;

/// <summary>
/// Input the CLI cannot work with (a missing folder, a dataset without images, a malformed vector or
/// label file). The message says what is wrong and how to fix it; the CLI prints it as one line.
/// </summary>
internal sealed class CliInputException : Exception
{
    /// <summary>Creates the exception with a message a person can act on.</summary>
    public CliInputException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message a person can act on and the failure behind it.</summary>
    public CliInputException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
