using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// A job's result in the blob store, as files whose size per image is constant: under <c>jobs/{id}/result/</c> the
/// folder <see cref="ResultFolder"/> writes (the bounded summary <c>result.json</c>, images.parquet, errors.parquet,
/// linkage.npy, embeddings.npy, alpha.npy for small jobs), and the pages readers fetch instead of whole files
/// (<see cref="ResultPages"/>: <c>pages.json</c>, <c>clusters/{c}/{p}.json</c>, <c>ids/{b}.json</c>, <c>errors/{p}.json</c>).
/// The summary is written last: a result whose summary exists is complete.
/// </summary>
/// <remarks>
/// Writing is O(N (D + M)) bytes through a local temporary folder (the Parquet and .npy writers stream to files), so the
/// coordinator holds no second copy of the embeddings; a page read is O(page) whatever N is.
/// </remarks>
public static class JobResultFiles
{
    /// <summary>The file names a client may download (<see cref="OpenFileAsync"/>).</summary>
    public static IReadOnlyList<string> DownloadableFiles { get; } = [ResultFolder.SummaryFileName, .. ResultFolder.DataFileNames];

    private const int ParallelWrites = 8;

    /// <summary>The folder of a job's result files.</summary>
    public static string Folder(string jobId) => JobBlobNames.JobPrefix(jobId) + "result/";

    /// <summary>
    /// Writes <paramref name="result"/> (with <paramref name="embeddings"/>, N x D in image order, when its images carry no
    /// x_i of their own, and each row's manifest index) as job <paramref name="jobId"/>'s result; returns the summary's blob.
    /// </summary>
    public static async Task<string> WriteAsync(
        IBlobStore store, string jobId, ClusteringResult result, ResultSource source, float[]? embeddings, IReadOnlyList<int>? imageIndices,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(result);
        var folder = Folder(jobId);
        var centres = ClusterCentres.Of(result, embeddings);
        var local = Directory.CreateTempSubdirectory("anomaly-clustering-result-");
        try
        {
            ResultFolder.Write(local.FullName, result, source, centres, embeddings, imageIndices);
            var files = Directory.GetFiles(local.FullName).Select(Path.GetFileName).Where(name => name != ResultFolder.SummaryFileName).ToArray();
            await ForEachAsync(files, async name =>
            {
                await using var file = File.OpenRead(Path.Combine(local.FullName, name!));
                await store.PutAsync(folder + name, file, cancellationToken: cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);

            // One JSON buffer per concurrent write, reused page after page (ParallelWrites of them at most).
            var buffers = new ConcurrentBag<ArrayBufferWriter<byte>>();
            await ForEachAsync(ResultPages.ClusterPages(result, centres, imageIndices), page =>
                PutPageAsync(store, ClusterPage(jobId, page.Cluster, page.Page), page.Rows, buffers, cancellationToken), cancellationToken).ConfigureAwait(false);
            await ForEachAsync(ResultPages.IdBuckets(result, centres, imageIndices), bucket =>
                PutPageAsync(store, IdBucket(jobId, bucket.Bucket), bucket.Rows, buffers, cancellationToken), cancellationToken).ConfigureAwait(false);
            await ForEachAsync(ResultPages.ErrorPages(result.Errors), page =>
                PutPageAsync(store, ErrorPage(jobId, page.Page), page.Rows, buffers, cancellationToken), cancellationToken).ConfigureAwait(false);
            await PutAsync(store, PageIndex(jobId), ResultPages.IndexToJson(ResultPages.IndexOf(result)), cancellationToken).ConfigureAwait(false);

            await using (var summary = File.OpenRead(Path.Combine(local.FullName, ResultFolder.SummaryFileName)))
            {
                await store.PutAsync(JobBlobNames.Result(jobId), summary, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            return JobBlobNames.Result(jobId);
        }
        finally
        {
            local.Delete(recursive: true);
        }
    }

    /// <summary>The whole result whose summary is <paramref name="summaryBlob"/>, embeddings included (see the overload).</summary>
    /// <exception cref="BlobNotFoundException">The result is gone.</exception>
    /// <exception cref="InvalidDataException">A file is not what this tool writes.</exception>
    public static Task<(ClusteringResult Result, ResultSource Source)> ReadAsync(IBlobStore store, string summaryBlob, CancellationToken cancellationToken) =>
        ReadAsync(store, summaryBlob, withEmbeddings: true, cancellationToken);

    /// <summary>
    /// The whole result whose summary is <paramref name="summaryBlob"/> (every file read into memory: for the CLI, reports
    /// and catalogs, not for pages). A result written before results were folders (one full document) reads too.
    /// </summary>
    /// <exception cref="BlobNotFoundException">The result is gone.</exception>
    /// <exception cref="InvalidDataException">A file is not what this tool writes.</exception>
    /// <remarks>
    /// <paramref name="withEmbeddings"/> false leaves embeddings.npy in the store (N x D floats: 1 GB at a million images);
    /// the images then carry their recorded distance to the centre instead (what a report's galleries need).
    /// </remarks>
    public static async Task<(ClusteringResult Result, ResultSource Source)> ReadAsync(
        IBlobStore store, string summaryBlob, bool withEmbeddings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var local = Directory.CreateTempSubdirectory("anomaly-clustering-result-");
        try
        {
            var summaryPath = await DownloadAsync(store, summaryBlob, local.FullName, withEmbeddings, cancellationToken).ConfigureAwait(false);
            return ResultFolder.ReadResultFile(summaryPath);
        }
        finally
        {
            local.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Copies the result whose summary is <paramref name="summaryBlob"/> into <paramref name="folder"/> (its files under
    /// their names; a full document of an earlier version as result.json alone) and returns the summary's path there.
    /// </summary>
    public static async Task<string> DownloadAsync(IBlobStore store, string summaryBlob, string folder, bool withEmbeddings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(summaryBlob);
        var summaryFolder = summaryBlob[..(summaryBlob.LastIndexOf('/') + 1)];
        // Only the folder's own result files: never pages, and nothing of the job beside them for a legacy document.
        var isFolder = summaryFolder.EndsWith("/result/", StringComparison.Ordinal);
        foreach (var name in isFolder ? ResultFolder.DataFileNames.Where(name => withEmbeddings || name != ResultFolder.EmbeddingsFileName) : [])
        {
            try
            {
                await using var source = await store.OpenReadAsync(summaryFolder + name, cancellationToken).ConfigureAwait(false);
                await using var target = File.Create(Path.Combine(folder, name));
                await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobNotFoundException)
            {
                // Optional files (embeddings, alpha maps) are absent for some results; the reader says when one must exist.
            }
        }
        var summaryPath = Path.Combine(folder, ResultFolder.SummaryFileName);
        await using (var summary = await store.OpenReadAsync(summaryBlob, cancellationToken).ConfigureAwait(false))
        await using (var target = File.Create(summaryPath))
        {
            await summary.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
        }
        return summaryPath;
    }

    /// <summary>The summary of the result at <paramref name="summaryBlob"/>.</summary>
    /// <exception cref="BlobNotFoundException">The result is gone.</exception>
    /// <exception cref="InvalidDataException">It is not a summary (a full document of an earlier version).</exception>
    public static async Task<ResultSummary> ReadSummaryAsync(IBlobStore store, string summaryBlob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var stream = await store.OpenReadAsync(summaryBlob, cancellationToken).ConfigureAwait(false);
        return ResultSummary.Read(stream);
    }

    /// <summary>Replaces the cluster names in the summary at <paramref name="summaryBlob"/> (the only place they are kept).</summary>
    public static async Task WriteNamesAsync(IBlobStore store, string summaryBlob, ClusterNames names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        using var updated = new MemoryStream();
        await using (var summary = await store.OpenReadAsync(summaryBlob, cancellationToken).ConfigureAwait(false))
        {
            ResultSummary.WriteRenamed(summary, updated, names);
        }
        updated.Position = 0;
        await store.PutAsync(summaryBlob, updated, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The layout of job <paramref name="jobId"/>'s pages.</summary>
    /// <exception cref="BlobNotFoundException">The job's result has no pages (gone, or written before results had them).</exception>
    public static async Task<ResultPageIndex> ReadIndexAsync(IBlobStore store, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        return ResultPages.IndexFromJson(await store.ReadAllBytesAsync(PageIndex(jobId), cancellationToken: cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Rows <paramref name="offset"/> .. offset + limit - 1 of cluster <paramref name="cluster"/>, nearest to its centroid first.</summary>
    public static async Task<IReadOnlyList<ResultImageEntry>> ReadClusterImagesAsync(
        IBlobStore store, string jobId, ResultPageIndex index, int cluster, int offset, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(index);
        return await ReadRangeAsync<ResultImageEntry>(store, page => ClusterPage(jobId, cluster, page), index.ClusterSizes[cluster], offset, limit, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Errors <paramref name="offset"/> .. offset + limit - 1, in result order.</summary>
    public static async Task<IReadOnlyList<ImageError>> ReadErrorsAsync(
        IBlobStore store, string jobId, ResultPageIndex index, int offset, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(index);
        return await ReadRangeAsync<ImageError>(store, page => ErrorPage(jobId, page), index.ErrorCount, offset, limit, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The clustered image <paramref name="id"/>, read from its id bucket; null when the job clustered no such image.</summary>
    public static async Task<ResultImageEntry?> FindImageAsync(IBlobStore store, string jobId, ResultPageIndex index, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(index);
        var bucket = await store.ReadAllBytesAsync(IdBucket(jobId, ResultPages.BucketOf(id, index.IdBucketCount)), cancellationToken: cancellationToken).ConfigureAwait(false);
        return ResultPages.FromJson<ResultImageEntry>(bucket).FirstOrDefault(entry => entry.Id == id);
    }

    /// <summary>
    /// The alpha map of the job's image <paramref name="imageIndex"/> (its manifest index), from its outcome blob: alpha maps
    /// stay per image, so one is read without the others. Null when the outcome is gone.
    /// </summary>
    public static async Task<float[]?> ReadAlphaMapAsync(IBlobStore store, string jobId, int imageIndex, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            var bytes = await store.ReadAllBytesAsync(JobBlobNames.ImageOutcome(jobId, imageIndex), cancellationToken: cancellationToken).ConfigureAwait(false);
            return Images.ImageOutcomeFormat.FromBytes(bytes).Weights;
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Opens one of <see cref="DownloadableFiles"/> of job <paramref name="jobId"/>'s result.</summary>
    /// <exception cref="ArgumentException">The name is not one of them.</exception>
    /// <exception cref="BlobNotFoundException">The job's result has no such file (no alpha maps, no embeddings, or gone).</exception>
    public static Task<Stream> OpenFileAsync(IBlobStore store, string jobId, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!DownloadableFiles.Contains(name))
        {
            throw new ArgumentException($"'{name}' is not a result file; the files are {string.Join(", ", DownloadableFiles)}.", nameof(name));
        }
        return store.OpenReadAsync(Folder(jobId) + name, cancellationToken);
    }

    private static string PageIndex(string jobId) => Folder(jobId) + "pages.json";

    private static string ClusterPage(string jobId, int cluster, int page) => $"{Folder(jobId)}clusters/{cluster}/{page}.json";

    private static string IdBucket(string jobId, int bucket) => $"{Folder(jobId)}ids/{bucket}.json";

    private static string ErrorPage(string jobId, int page) => $"{Folder(jobId)}errors/{page}.json";

    private static async Task<IReadOnlyList<T>> ReadRangeAsync<T>(
        IBlobStore store, Func<int, string> pageBlob, int total, int offset, int limit, CancellationToken cancellationToken)
    {
        var rows = new List<T>(Math.Max(0, Math.Min(limit, total - offset)));
        foreach (var page in ResultPages.PagesCovering(offset, limit, total))
        {
            var entries = ResultPages.FromJson<T>(await store.ReadAllBytesAsync(pageBlob(page), cancellationToken: cancellationToken).ConfigureAwait(false));
            var first = page * ResultPages.PageSize;
            rows.AddRange(entries.Skip(Math.Max(0, offset - first)).Take(offset + limit - Math.Max(offset, first)));
        }
        return rows;
    }

    /// <summary>Writes a page's JSON (<see cref="ResultPages.WriteJson"/>) through a buffer taken from <paramref name="buffers"/> and given back after the put.</summary>
    private static async Task PutPageAsync<T>(IBlobStore store, string name, IReadOnlyList<T> rows, ConcurrentBag<ArrayBufferWriter<byte>> buffers, CancellationToken cancellationToken)
    {
        if (!buffers.TryTake(out var buffer))
        {
            buffer = new ArrayBufferWriter<byte>();
        }
        try
        {
            buffer.ResetWrittenCount();
            ResultPages.WriteJson(buffer, rows);
            if (!MemoryMarshal.TryGetArray(buffer.WrittenMemory, out var written))
            {
                throw new InvalidOperationException("an ArrayBufferWriter's memory is an array.");
            }
            using var content = new MemoryStream(written.Array!, written.Offset, written.Count, writable: false);
            await store.PutAsync(name, content, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            buffers.Add(buffer);
        }
    }

    private static async Task PutAsync(IBlobStore store, string name, byte[] bytes, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(bytes, writable: false);
        await store.PutAsync(name, content, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static Task ForEachAsync<T>(IEnumerable<T> items, Func<T, Task> write, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (item, _) => await BoundedFanOut.WithRetriesAsync(async () =>
            {
                await write(item).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false));
}
