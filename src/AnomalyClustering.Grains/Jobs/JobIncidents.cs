using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// The one place an unexpected exception of a job becomes text: the exception (which can name storage endpoints, keys or
/// stack frames) goes to the log under a new incident id, and only the id and a fixed explanation go into what the job
/// keeps (its error, an image failure), and so into every answer, result document and report made from it.
/// </summary>
internal static partial class JobIncidents
{
    /// <summary>The reason an image failure has when the failure was the system's, not the image's.</summary>
    public const string InternalReason = "internal";

    /// <summary>
    /// Logs <paramref name="exception"/> under a new incident id and returns the caller-visible text:
    /// <c>internal error (incident X); EXPLANATION; the server's log has the details under this id.</c>
    /// </summary>
    public static string Record(ILogger logger, string subject, Exception exception, string explanation)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(exception);
        // Random, not derived from the text: the text is stored once, so polls see the same id without a hash, and a
        // hash of a secret would be a (weak) oracle on it.
        var incident = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        LogIncident(logger, exception, incident, subject, exception.Message);
        return $"internal error (incident {incident}); {explanation}; the server's log has the details under this id.";
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Incident {Incident} ({Subject}): {Detail}")]
    private static partial void LogIncident(ILogger logger, Exception exception, string incident, string subject, string detail);
}
