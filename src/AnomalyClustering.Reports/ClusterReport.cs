using System.Text;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Galleries;
using AnomalyClustering.Reports.Images;
using AnomalyClustering.Reports.Page;
using AnomalyClustering.Reports.Thumbnails;

namespace AnomalyClustering.Reports;

/// <summary>What a report shows and where it gets its pictures.</summary>
/// <param name="Result">The job's result (with its cluster names).</param>
/// <param name="Source">Where the result came from (dataset, backbone, preprocessing).</param>
/// <param name="Images">Reads the clustered images.</param>
/// <param name="Thumbnails">Caches the thumbnails and heat maps and says how the page links to them.</param>
public sealed record ClusterReportInput(ClusteringResult Result, ResultSource Source, IReportImageSource Images, IThumbnailCache Thumbnails)
{
    /// <summary>Sizes, inlining and the API the page talks to.</summary>
    public ReportOptions Options { get; init; } = new();

    /// <summary>
    /// The result's report digest when <see cref="Result"/> was built from it (<see cref="ResultFolder.ReadForReport"/>: its
    /// images are only the digest's rows); the page's totals then come from it. Null for a result read whole.
    /// </summary>
    public ReportDigest? Digest { get; init; }
}

/// <summary>
/// The HTML report of a clustering job, one self-contained page (inline CSS and script, no web framework): per cluster a
/// paged gallery of thumbnails (medoid first, then by distance to the centroid; the first
/// <see cref="ReportOptions.MaxImagesPerCluster"/>, so that the page is bounded at any N) with size and label purity, each image's
/// alpha heat map with a colour scale, cluster names that can be edited (and downloaded as names.json, or saved through
/// the API when the API serves the page), the dendrogram with its cut, the confusion matrix against the labels, the
/// per-image errors and the options used. Small jobs carry their thumbnails inline; large ones link to the cache.
/// </summary>
public static class ClusterReport
{
    /// <summary>The report's file name in a job's output folder.</summary>
    public const string FileName = "report.html";

    /// <summary>The Content-Security-Policy header value to serve the page with: only its own inline script runs.</summary>
    public static string ContentSecurityPolicy => ReportPage.ContentSecurityPolicy;

    /// <summary>Writes the page to <paramref name="output"/> (UTF-8).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="Core.Validation.InvalidClusteringInputException">A cluster name belongs to a cluster the result does not have.</exception>
    public static async Task WriteAsync(ClusterReportInput input, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        input.Options.Validate();
        input.Result.Names.CheckAgainst(input.Result.ClusterCount);
        // Only the images the galleries show are read and rendered: K x MaxImagesPerCluster at most, whatever N is.
        var selection = SelectionOf(input.Result, input.Options, input.Digest);
        var thumbnails = await ReportThumbnails.PrepareAsync(
            input.Result, selection.Pictured, input.Source.Preprocessing, input.Images, input.Thumbnails, input.Options, cancellationToken).ConfigureAwait(false);
        var totals = input.Digest ?? ReportPage.TotalsOf(input.Result, input.Options);
        var html = ReportPage.Render(input.Result, input.Source, selection, thumbnails, input.Options, totals);
        var bytes = Encoding.UTF8.GetBytes(html);
        await output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The ids of the images the page for <paramref name="result"/> pictures (at most K x 2 x
    /// <see cref="ReportOptions.MaxImagesPerCluster"/>): a server finds only these images' blobs, not every image's.
    /// </summary>
    public static IReadOnlySet<string> PicturedImageIds(ClusteringResult result, ReportOptions options, ReportDigest? digest = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        var selection = SelectionOf(result, options, digest);
        return selection.Pictured.Select(i => result.Images[i].Id).ToHashSet(StringComparer.Ordinal);
    }

    // A result built from a digest holds every image only when the digest kept them all and its tree is the whole tree
    // over the images (a small job): then the page lists them and can re-cut, as for the result read whole.
    private static ReportSelection SelectionOf(ClusteringResult result, ReportOptions options, ReportDigest? digest) =>
        digest is null
            ? ReportSelection.Of(result, options, ReportPage.HasAnomalyScores(result))
            : ReportSelection.Of(result, options, hasScores: digest.Histogram is not null,
                holdsEveryImage: digest.Rows.Count == digest.ImageCount && digest.Tree.FirstRow == 0 && digest.Tree.PointCount == digest.ImageCount);

    /// <summary>
    /// Writes <see cref="FileName"/> into <paramref name="folder"/> with its thumbnails in <c>thumbnails/</c> beside it (the
    /// CLI's layout), reading images by their ids from <paramref name="images"/>. Returns the page's path.
    /// </summary>
    public static async Task<string> WriteToFolderAsync(
        ClusteringResult result, ResultSource source, IReportImageSource images, string folder, ReportOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        var cache = new FolderThumbnailCache(Path.Combine(folder, FolderThumbnailCache.DefaultFolderName));
        var input = new ClusterReportInput(result, source, images, cache) { Options = options ?? new ReportOptions() };
        // Into a temporary file first: a failed report must not leave half a page behind a good one.
        var temporary = path + ".tmp";
        await using (var stream = File.Create(temporary))
        {
            await WriteAsync(input, stream, cancellationToken).ConfigureAwait(false);
        }
        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
