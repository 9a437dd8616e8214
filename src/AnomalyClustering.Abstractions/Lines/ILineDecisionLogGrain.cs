namespace AnomalyClustering.Abstractions.Lines;

/// <summary>
/// The decision log of one production line (key: the line's blob prefix, <c>lines/{tenant}/{name}/</c>), placed on
/// coordinator silos: one activation per line records each image id once (so that posting an image again never logs it
/// twice) and writes the decisions as Parquet parts partitioned by hour (<see cref="LineBlobNames.DecisionPart"/>).
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

    /// <summary>
    /// Writes the decisions buffered since the last part as parts now. The log flushes on its own (by size, by age, on
    /// deactivation); readers call <see cref="Buffered"/> instead, so that polling the log writes nothing.
    /// </summary>
    [Alias("Flush")]
    Task Flush();

    /// <summary>
    /// The buffered decisions (not in a part yet) that <paramref name="query"/> asks for, each at the part and row the
    /// next flush writes it to, in log order. Writes nothing: a reader merges them with the stored parts.
    /// </summary>
    [Alias("Buffered")]
    Task<IReadOnlyList<LineBufferedDecision>> Buffered(LineBufferedDecisionQuery query);

    /// <summary>
    /// Drops the decisions buffered for a line that is being deleted (their journal and records go with the line's folder)
    /// and deactivates, so that none is written as a part after the deletion. Called before the line's blobs are deleted.
    /// </summary>
    [Alias("Discard")]
    Task Discard();

    /// <summary>
    /// Called after the line's blobs are deleted: a compaction that read the line's parts before the deletion may have
    /// written its compacted part after the deletion listed the folder (an activation made during the deletion by a
    /// reader). The log waits for it and, unless the line has a catalog again, deletes what it left, so that a line made
    /// again under the name starts with an empty log.
    /// </summary>
    [Alias("LineDeleted")]
    Task LineDeleted();
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

/// <summary>Which buffered decisions a reader of the log asks for.</summary>
/// <param name="Since">Decided at or after this time; null: any.</param>
/// <param name="Until">Decided before this time; null: any.</param>
/// <param name="FromPart">The part (its blob name) where the reader's page starts; null: the start of the log.</param>
/// <param name="FromRow">The row of <paramref name="FromPart"/> where the page starts.</param>
/// <param name="Limit">The most decisions to answer (the first ones in log order).</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.LineBufferedDecisionQuery")]
public sealed record LineBufferedDecisionQuery(
    [property: Id(0)] DateTimeOffset? Since,
    [property: Id(1)] DateTimeOffset? Until,
    [property: Id(2)] string? FromPart,
    [property: Id(3)] int FromRow,
    [property: Id(4)] int Limit);

/// <summary>A buffered decision and the place in the log the next flush writes it to.</summary>
/// <param name="Part">The blob name of its part (<see cref="LineBlobNames.DecisionPart"/>).</param>
/// <param name="Row">Its row in that part.</param>
/// <param name="Json">The decision as one line of JSON.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.LineBufferedDecision")]
public sealed record LineBufferedDecision(
    [property: Id(0)] string Part,
    [property: Id(1)] int Row,
    [property: Id(2)] string Json);

/// <summary>Where a line's blobs live under its prefix.</summary>
public static class LineBlobNames
{
    /// <summary>The prefix of the line's decision log.</summary>
    public static string Decisions(string linePrefix) => linePrefix + "decisions/";

    /// <summary>The folder of the parts of the hour of <paramref name="at"/> (UTC): <c>decisions/date=yyyy-MM-dd/hour=HH/</c>.</summary>
    public static string DecisionHourFolder(string linePrefix, DateTimeOffset at) =>
        Decisions(linePrefix) + at.UtcDateTime.ToString("'date='yyyy-MM-dd'/hour='HH", System.Globalization.CultureInfo.InvariantCulture) + "/";

    /// <summary>
    /// One Parquet part of the decisions of the hour of <paramref name="at"/>: <paramref name="partKey"/> is its first batch's
    /// journal key (the hour, then UTC ticks in 19 digits), so that the ordinal order of part names is the order they were logged in.
    /// </summary>
    public static string DecisionPart(string linePrefix, DateTimeOffset at, string partKey) =>
        DecisionHourFolder(linePrefix, at) + "part-" + partKey + ".parquet";

    /// <summary>The end of a compacted part's name (<see cref="CompactedDecisionPart"/>).</summary>
    public const string CompactedPartSuffix = "-compacted.parquet";

    /// <summary>
    /// The part that holds, once the hour of <paramref name="at"/> is closed, the rows of that hour's parts, named after the
    /// first of them (<paramref name="firstPartKey"/>): <c>part-{firstPartKey}-compacted.parquet</c> sorts just before that
    /// part, so that a reader listing the hour meets the compacted part before any part it replaces.
    /// </summary>
    public static string CompactedDecisionPart(string linePrefix, DateTimeOffset at, string firstPartKey) =>
        DecisionHourFolder(linePrefix, at) + "part-" + firstPartKey + CompactedPartSuffix;

    /// <summary>
    /// The log's compaction marker: the first day (UTC, <c>yyyy-MM-dd</c>) that may still hold an hour to compact, so that a
    /// new activation of the log goes on from there instead of listing the log from its first day. Outside
    /// <see cref="Decisions"/>, so that paging the log (and Spark, DuckDB or pandas reading the folder) lists only parts.
    /// </summary>
    public static string DecisionCompactionMarker(string linePrefix) => linePrefix + "decisions-compacted-before";

    /// <summary>Whether a part's name (or path) is a compacted part's (<see cref="CompactedDecisionPart"/>).</summary>
    public static bool IsCompactedDecisionPart(string name) => name.EndsWith(CompactedPartSuffix, StringComparison.Ordinal);

    /// <summary>
    /// The journal of decisions recorded but not yet in a part (one JSON-lines blob per logged batch and hour); outside
    /// <see cref="Decisions"/>, so that paging the log lists only parts.
    /// </summary>
    public static string PendingDecisions(string linePrefix) => linePrefix + "pending-decisions/";

    /// <summary>The blob of a posted image (by its id, the SHA-256 of its bytes); edge gateways write theirs under the line too.</summary>
    public static string ImageOf(string linePrefix, string imageId) => linePrefix + "images/" + imageId;

    /// <summary>
    /// The blob holding the decision made for image <paramref name="imageId"/> (the idempotency record); outside
    /// <see cref="Decisions"/>, so that paging the log lists only parts.
    /// </summary>
    public static string DecisionOf(string linePrefix, string imageId) => linePrefix + "decided/" + imageId + ".json";
}
