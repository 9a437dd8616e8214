using AnomalyClustering.Grains.Lines;

namespace AnomalyClustering.Silo.Lines;

/// <summary>The body of <c>POST /lines</c>.</summary>
/// <param name="Name">The line's name: 1-64 letters, digits, '.', '_' or '-', not starting with '.'.</param>
/// <param name="FromJob">The completed job whose clusters become the catalog.</param>
/// <param name="Margin">The rule's margin (default 0.1).</param>
/// <param name="AcceptanceFactor">The rule's acceptance factor (default 1.5).</param>
public sealed record CreateLineRequest(string? Name, string? FromJob, double? Margin = null, double? AcceptanceFactor = null);

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
