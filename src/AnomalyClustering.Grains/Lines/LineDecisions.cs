namespace AnomalyClustering.Grains.Lines;

/// <summary>One decision of a line, as logged and as answered.</summary>
/// <param name="ImageId">The image id, the idempotency key: the SHA-256 of its bytes (hex) when posted, the id its intake message gave otherwise.</param>
/// <param name="FileName">The file name the image was posted with, for people.</param>
/// <param name="DecidedAt">When it was decided.</param>
/// <param name="CatalogVersion">The catalog version it was decided with.</param>
/// <param name="Decision">The defect type's name, or <c>novel</c>.</param>
/// <param name="Outcome"><c>assigned</c>, <c>ambiguous</c> (within the margin of a second type) or <c>novel</c>.</param>
/// <param name="Nearest">The nearest type (also for a novel image).</param>
/// <param name="AnomalyScore">The image anomaly score (null in the <c>average</c> mode).</param>
/// <param name="Defective">Whether the score is above the catalog's detection threshold; null without either.</param>
/// <param name="Distances">Per type, the distance to its centroid.</param>
/// <param name="WardIncreases">Per type, the growth of Ward's criterion if the image joined it.</param>
/// <param name="Margin">The nearest type's relative lead over the second.</param>
/// <param name="AcceptanceRadius">The nearest type's acceptance radius.</param>
/// <param name="NoveltyScore">Distance over radius (above 1: novel); null when the radius is 0.</param>
/// <param name="Error">
/// Set for an image of the intake queue that could not be decided (its blob is not an image, is missing, ...): the stored
/// decision is then <c>error</c>, so that the message is accounted for and never redelivered; null otherwise.
/// </param>
public sealed record LineDecision(
    string ImageId,
    string? FileName,
    DateTimeOffset DecidedAt,
    int CatalogVersion,
    string Decision,
    string Outcome,
    string Nearest,
    double? AnomalyScore,
    bool? Defective,
    IReadOnlyDictionary<string, double> Distances,
    IReadOnlyDictionary<string, double> WardIncreases,
    double Margin,
    double AcceptanceRadius,
    double? NoveltyScore,
    LineImageError? Error = null)
{
    /// <summary>The <see cref="Decision"/> of an image that could not be decided.</summary>
    public const string ErrorDecision = "error";

    /// <summary>The <see cref="Outcome"/> (and <see cref="Decision"/>) of an image of no known type: it joins the line's novel pool.</summary>
    public const string Novel = "novel";

    /// <summary>
    /// Whether this stored decision stands for good. An <see cref="LineImageError.UnknownLine"/> error does not: it was stored
    /// because the line did not exist yet (a gateway that sends before the line is made, or while it is made again), and the
    /// image sent again once the line exists is decided, not answered with that error.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinal => Error?.Reason != LineImageError.UnknownLine;
}

/// <summary>What <c>POST /lines/{name}/images</c> answers per image: its decision, or why there is none.</summary>
/// <param name="ImageId">The image id (null when the file could not even be read).</param>
/// <param name="FileName">The posted file name.</param>
/// <param name="Repeated">True when the image was decided before: the stored decision is returned, nothing is recomputed.</param>
/// <param name="Decision">The decision, or null on error.</param>
/// <param name="Error">Why the image has no decision, or null.</param>
public sealed record LineImageResult(string? ImageId, string? FileName, bool Repeated, LineDecision? Decision, LineImageError? Error);

/// <summary>Why one posted image has no decision.</summary>
/// <param name="Reason">A stable code (<c>not-an-image</c>, <c>too-large</c>, <c>empty</c>, <c>dimension</c>, <c>unavailable</c>, ...).</param>
/// <param name="Message">What was wrong, for a person.</param>
public sealed record LineImageError(string Reason, string Message)
{
    /// <summary>The reason of a failure that is not the image's: a worker or the store was away. Retried, never stored.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>The reason of an intake image whose line has no catalog. Stored, but not final (<see cref="LineDecision.IsFinal"/>).</summary>
    public const string UnknownLine = "unknown-line";
}

