using AnomalyClustering.Grains.Lines;

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

/// <summary>The answer of <c>POST /lines/{name}/images</c>.</summary>
/// <param name="Line">The line.</param>
/// <param name="CatalogVersion">The catalog version new decisions were made with.</param>
/// <param name="Images">Per posted file, in order.</param>
public sealed record LineImagesResponse(string Line, int CatalogVersion, IReadOnlyList<LineImageResult> Images);

/// <summary>A page of a line's decision log, in log order.</summary>
/// <param name="Line">The line.</param>
/// <param name="Since">The window's start (inclusive), or null.</param>
/// <param name="Until">The window's end (exclusive), or null.</param>
/// <param name="Limit">The most decisions on the page.</param>
/// <param name="Decisions">The page.</param>
/// <param name="Next">The <c>continuation</c> of the next page; null when no decision follows in the window.</param>
public sealed record LineDecisionPage(string Line, DateTimeOffset? Since, DateTimeOffset? Until, int Limit, IReadOnlyList<LineDecision> Decisions, string? Next)
{
    /// <summary>True when decisions follow the page.</summary>
    public bool HasMore => Next is not null;
}

/// <summary>The answer of <c>GET /lines/{name}/images/{imageId}/weights</c>.</summary>
/// <param name="ImageId">The image.</param>
/// <param name="Weights">Its patch weights alpha, row-major on the backbone's patch grid.</param>
public sealed record LineImageWeights(string ImageId, float[] Weights);
