namespace AnomalyClustering.Silo.Lines;

/// <summary>The body of <c>POST /lines</c>.</summary>
/// <param name="Name">The line's name: 1-64 letters, digits, '.', '_' or '-', not starting with '.'.</param>
/// <param name="FromJob">The completed job whose clusters become the catalog.</param>
/// <param name="Margin">The rule's margin (default 0.1).</param>
/// <param name="AcceptanceFactor">The rule's acceptance factor (default 1.5).</param>
public sealed record CreateLineRequest(string? Name, string? FromJob, double? Margin = null, double? AcceptanceFactor = null);

/// <summary>A line's newest catalog, as <c>GET /lines/{name}</c> and <c>POST /lines</c> answer.</summary>
/// <param name="Name">The line.</param>
/// <param name="Version">The catalog version shown.</param>
/// <param name="Versions">Every version of the line, ascending.</param>
/// <param name="SourceJob">The job the catalog was made from, when the server made it.</param>
/// <param name="Mode">The job's patch-weighting mode.</param>
/// <param name="Backbone">The job's backbone.</param>
/// <param name="DetectionThreshold">The job's anomaly-score threshold, or null.</param>
/// <param name="Margin">The rule's margin.</param>
/// <param name="AcceptanceFactor">The rule's acceptance factor.</param>
/// <param name="EmbeddingDimension">D.</param>
/// <param name="Clusters">The named clusters.</param>
public sealed record LineView(
    string Name,
    int Version,
    IReadOnlyList<int> Versions,
    string? SourceJob,
    string Mode,
    string Backbone,
    double? DetectionThreshold,
    double Margin,
    double AcceptanceFactor,
    int EmbeddingDimension,
    IReadOnlyList<LineClusterView> Clusters);

/// <summary>One cluster (defect type) of a catalog.</summary>
/// <param name="Index">Its index in the catalog (the cut's cluster number).</param>
/// <param name="Name">Its name.</param>
/// <param name="Size">Member images.</param>
/// <param name="Spread">Root-mean-square distance of the members to the centroid.</param>
/// <param name="AcceptanceRadius">Beyond this distance an image is novel.</param>
public sealed record LineClusterView(int Index, string Name, int Size, double Spread, double AcceptanceRadius);

/// <summary>One decision of a line, as logged and as answered.</summary>
/// <param name="ImageId">The image id: the SHA-256 of its bytes (hex), the idempotency key.</param>
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
    double? NoveltyScore);

/// <summary>What <c>POST /lines/{name}/images</c> answers per image: its decision, or why there is none.</summary>
/// <param name="ImageId">The image id (null when the file could not even be read).</param>
/// <param name="FileName">The posted file name.</param>
/// <param name="Repeated">True when the image was decided before: the stored decision is returned, nothing is recomputed.</param>
/// <param name="Decision">The decision, or null on error.</param>
/// <param name="Error">Why the image has no decision, or null.</param>
public sealed record LineImageResult(string? ImageId, string? FileName, bool Repeated, LineDecision? Decision, LineImageError? Error);

/// <summary>Why one posted image has no decision.</summary>
/// <param name="Reason">A stable code (<c>not-an-image</c>, <c>too-large</c>, <c>empty</c>, <c>dimension</c>, ...).</param>
/// <param name="Message">What was wrong, for a person.</param>
public sealed record LineImageError(string Reason, string Message);

/// <summary>The answer of <c>POST /lines/{name}/images</c>.</summary>
/// <param name="Line">The line.</param>
/// <param name="CatalogVersion">The catalog version new decisions were made with.</param>
/// <param name="Images">Per posted file, in order.</param>
public sealed record LineImagesResponse(string Line, int CatalogVersion, IReadOnlyList<LineImageResult> Images);

/// <summary>A page of a line's decision log, oldest first.</summary>
/// <param name="Line">The line.</param>
/// <param name="Offset">Decisions skipped.</param>
/// <param name="Limit">The most decisions on the page.</param>
/// <param name="Decisions">The page.</param>
/// <param name="HasMore">True when decisions follow the page.</param>
public sealed record LineDecisionPage(string Line, int Offset, int Limit, IReadOnlyList<LineDecision> Decisions, bool HasMore);
