namespace AnomalyClustering.Cli.Embedded;

/// <summary>
/// A submitted embedded job was stopped (Ctrl+C, SIGTERM) and kept in the store, for the same command to resume: the run
/// ends as cancelled, saying where the job waits.
/// </summary>
internal sealed class EmbeddedJobKeptException(string message) : OperationCanceledException(message);
