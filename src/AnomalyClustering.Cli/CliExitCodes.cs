namespace AnomalyClustering.Cli;

/// <summary>The process exit codes of anomaly-cluster.</summary>
internal static class CliExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The input could not be used: a missing folder, an empty dataset, a bad option value, an unreadable model.</summary>
    public const int InputError = 1;

    /// <summary>The command line itself is wrong: an unknown option or command, a missing argument, a value of the wrong type.</summary>
    public const int UsageError = 2;

    /// <summary>A failure that is not the user's doing (a bug); the message asks for a report.</summary>
    public const int InternalError = 70;

    /// <summary>The user interrupted the command (Ctrl+C).</summary>
    public const int Cancelled = 130;
}
