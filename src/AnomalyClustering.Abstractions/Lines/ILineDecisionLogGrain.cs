namespace AnomalyClustering.Abstractions.Lines;

/// <summary>
/// The decision log of one production line (key: the line's blob prefix, <c>lines/{tenant}/{name}/</c>), placed on
/// coordinator silos: one activation per line serialises the appends to its hourly JSON-lines blobs, and records each
/// image id once, so that posting an image again never logs it twice.
/// </summary>
[Alias("AnomalyClustering.ILineDecisionLogGrain")]
public interface ILineDecisionLogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Logs the decisions whose image ids are new and returns, per entry in order, the decision stored for its id: the
    /// entry's own JSON, or the earlier one when the id was decided before.
    /// </summary>
    [Alias("Append")]
    Task<IReadOnlyList<string>> Append(IReadOnlyList<LineDecisionEntry> entries);
}

/// <summary>One decision to log.</summary>
/// <param name="ImageId">The image id (its content hash): the idempotency key.</param>
/// <param name="DecidedAt">When it was decided; picks the hourly blob.</param>
/// <param name="Json">The decision as one line of JSON (no line breaks).</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.LineDecisionEntry")]
public sealed record LineDecisionEntry(
    [property: Id(0)] string ImageId,
    [property: Id(1)] DateTimeOffset DecidedAt,
    [property: Id(2)] string Json);

/// <summary>Where a line's blobs live under its prefix.</summary>
public static class LineBlobNames
{
    /// <summary>The prefix of the line's decision log.</summary>
    public static string Decisions(string linePrefix) => linePrefix + "decisions/";

    /// <summary>The hourly JSON-lines blob of decisions made in the hour of <paramref name="at"/> (UTC).</summary>
    public static string DecisionHour(string linePrefix, DateTimeOffset at) =>
        Decisions(linePrefix) + at.UtcDateTime.ToString("yyyy-MM-dd-HH", System.Globalization.CultureInfo.InvariantCulture) + ".jsonl";

    /// <summary>The blob of a posted image (by its id, the SHA-256 of its bytes); edge gateways write theirs under the line too.</summary>
    public static string ImageOf(string linePrefix, string imageId) => linePrefix + "images/" + imageId;

    /// <summary>
    /// The blob holding the decision made for image <paramref name="imageId"/> (the idempotency record); outside
    /// <see cref="Decisions"/>, so that paging the log lists only the hourly blobs.
    /// </summary>
    public static string DecisionOf(string linePrefix, string imageId) => linePrefix + "decided/" + imageId + ".json";
}
