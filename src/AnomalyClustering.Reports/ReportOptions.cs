namespace AnomalyClustering.Reports;

/// <summary>How a report is made: page and thumbnail sizes, when images are inlined, and the API it talks to when served.</summary>
public sealed record ReportOptions
{
    /// <summary>Thumbnails per gallery page.</summary>
    public int PageSize { get; init; } = 48;

    /// <summary>
    /// Most images a cluster's gallery shows (most typical first; as many again sorted by anomaly score): what the page
    /// renders and the thumbnails made are bounded by K times this, not by N. The full list is in images.parquet, and the
    /// API pages it (GET /jobs/{id}/clusters/{c}/images).
    /// </summary>
    public int MaxImagesPerCluster { get; init; } = 240;

    /// <summary>
    /// Results of at most this many images list every image in the page, so that the merge tree can be re-cut at another
    /// K in the page (the default is the largest tree exact Ward builds by default; the page grows by an id, a label and
    /// a linkage row per image); larger results list only the images the galleries show.
    /// </summary>
    public int FullImageListUpTo { get; init; } = 100_000;

    /// <summary>Most rows of the "images left out" table; the rest are counted (errors.parquet has them all).</summary>
    public int MaxErrorRows { get; init; } = 200;

    /// <summary>Longer side of a thumbnail in pixels.</summary>
    public int ThumbnailSize { get; init; } = 160;

    /// <summary>JPEG quality of thumbnails and heat maps.</summary>
    public int JpegQuality { get; init; } = 82;

    /// <summary>
    /// Jobs of at most this many images carry their thumbnails inside the page (data: URIs: one file to mail or archive);
    /// larger jobs link to the thumbnail cache's entries and load them lazily, so the page stays small.
    /// </summary>
    public int InlineImageLimit { get; init; } = 300;

    /// <summary>Most leaves the dendrogram draws; larger trees are truncated (SciPy's "lastp").</summary>
    public int MaxDendrogramLeaves { get; init; } = 120;

    /// <summary>Images rendered at once.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Base URL of the HTTP API when the API serves the page (e.g. "/api" or "https://host"); with <see cref="JobId"/>,
    /// a name typed in the page is saved with PUT {ApiBaseUrl}/jobs/{JobId}/clusters/{index}/name. Null for a file report.
    /// </summary>
    public string? ApiBaseUrl { get; init; }

    /// <summary>The job's id on the API; see <see cref="ApiBaseUrl"/>.</summary>
    public string? JobId { get; init; }

    /// <summary>The page title; default: from the dataset path.</summary>
    public string? Title { get; init; }

    /// <summary>Throws for sizes out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or limit below its minimum.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(PageSize, 1, nameof(PageSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxImagesPerCluster, 1, nameof(MaxImagesPerCluster));
        ArgumentOutOfRangeException.ThrowIfNegative(FullImageListUpTo, nameof(FullImageListUpTo));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxErrorRows, nameof(MaxErrorRows));
        ArgumentOutOfRangeException.ThrowIfLessThan(ThumbnailSize, 16, nameof(ThumbnailSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(JpegQuality, 1, nameof(JpegQuality));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(JpegQuality, 100, nameof(JpegQuality));
        ArgumentOutOfRangeException.ThrowIfNegative(InlineImageLimit, nameof(InlineImageLimit));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDendrogramLeaves, 2, nameof(MaxDendrogramLeaves));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDegreeOfParallelism, 1, nameof(MaxDegreeOfParallelism));
    }
}
