using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AnomalyClustering.Jobs;

/// <summary>One clustered image as the result's pages list it.</summary>
/// <param name="Row">The image's row in the result's files (images.parquet, embeddings.npy, alpha.npy).</param>
/// <param name="Id">The image id.</param>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Label">Ground-truth label, or null.</param>
/// <param name="DistanceToCentre">Euclidean distance of x_i to its cluster's centroid; null without embeddings.</param>
/// <param name="AnomalyScore">The image's anomaly score (its largest patch score); null for precomputed embeddings.</param>
/// <param name="ImageIndex">The image's index in the job's manifest (where its outcome blob is), when the result came from a job.</param>
/// <param name="ContentSha256">The SHA-256 of the image file as the job read it (its thumbnail's key); null when unknown.</param>
public sealed record ResultImageEntry(
    int Row, string Id, int Cluster, string? Label, double? DistanceToCentre, double? AnomalyScore, int? ImageIndex, string? ContentSha256 = null);

/// <summary>How a result's pages are laid out: what a reader needs to find a page without listing anything.</summary>
/// <param name="PageSize">Rows per page (the last page of each sequence may hold fewer).</param>
/// <param name="ClusterSizes">Images per cluster, by cluster index.</param>
/// <param name="IdBucketCount">How many id buckets (<see cref="ResultPages.BucketOf"/>).</param>
/// <param name="ErrorCount">Unusable images, in pages of <paramref name="PageSize"/>.</param>
public sealed record ResultPageIndex(int PageSize, IReadOnlyList<int> ClusterSizes, int IdBucketCount, int ErrorCount);

/// <summary>
/// The result cut into fixed-size pages, so that a reader fetches what it shows at any N: per cluster its images nearest
/// to the centroid first (the gallery order: the medoid is row 0), the images hashed into id buckets (one image found by
/// reading one bucket), and the errors in result order. Each page is a small JSON array; at most two pages cover any
/// request of up to <see cref="PageSize"/> rows.
/// </summary>
/// <remarks>
/// Building the pages is O(N log N) time (the per-cluster sort) and O(N) extra memory in ints; pages are produced one at a
/// time, so the entries of only one page are held at once.
/// </remarks>
public static class ResultPages
{
    /// <summary>Rows per page: the API's largest page, so a request spans at most two pages.</summary>
    public const int PageSize = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The index of <paramref name="result"/>'s pages.</summary>
    public static ResultPageIndex IndexOf(ClusteringResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var sizes = new int[result.ClusterCount];
        foreach (var image in result.Images)
        {
            sizes[image.Cluster]++;
        }
        return new ResultPageIndex(PageSize, sizes, BucketCount(result.Images.Count), result.Errors.Count);
    }

    /// <summary>Id buckets for <paramref name="images"/> images: about one page each.</summary>
    public static int BucketCount(int images) => Math.Max(1, (images + PageSize - 1) / PageSize);

    /// <summary>The bucket of <paramref name="id"/> (64-bit FNV-1a of its UTF-8 bytes, modulo the count): stable across processes and versions.</summary>
    public static int BucketOf(string id, int bucketCount)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketCount, 1);
        // The UTF-8 bytes on the stack for ids of up to 64 characters: one array per id was a million short-lived arrays
        // per million-image result.
        var byteCount = Encoding.UTF8.GetMaxByteCount(id.Length);
        var bytes = byteCount <= 256 ? stackalloc byte[256] : new byte[byteCount];
        var hash = 14695981039346656037UL;
        foreach (var b in bytes[..Encoding.UTF8.GetBytes(id, bytes)])
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return (int)(hash % (ulong)bucketCount);
    }

    /// <summary>The pages (0-based) that hold rows <paramref name="offset"/> .. offset + limit - 1 of a sequence of <paramref name="total"/> rows.</summary>
    public static IEnumerable<int> PagesCovering(int offset, int limit, int total)
    {
        var end = Math.Min(total, offset + limit);
        for (var page = offset / PageSize; page * PageSize < end; page++)
        {
            yield return page;
        }
    }

    /// <summary>
    /// Every cluster's pages, cluster by cluster, members nearest to the centroid first (ties and distance-less results:
    /// by row). <paramref name="imageIndices"/>: each row's manifest index, or null.
    /// </summary>
    public static IEnumerable<(int Cluster, int Page, ResultImageEntry[] Rows)> ClusterPages(ClusteringResult result, ClusterCentres centres, IReadOnlyList<int>? imageIndices)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(centres);
        var members = Enumerable.Range(0, result.ClusterCount).Select(_ => new List<int>()).ToArray();
        for (var row = 0; row < result.Images.Count; row++)
        {
            members[result.Images[row].Cluster].Add(row);
        }
        for (var cluster = 0; cluster < members.Length; cluster++)
        {
            var rows = members[cluster];
            rows.Sort((a, b) =>
            {
                var order = Distance(centres, a).CompareTo(Distance(centres, b));
                return order != 0 ? order : a.CompareTo(b);
            });
            for (var start = 0; start < rows.Count; start += PageSize)
            {
                var page = rows.Skip(start).Take(PageSize).Select(row => EntryOf(result, centres, imageIndices, row)).ToArray();
                yield return (cluster, start / PageSize, page);
            }
        }
    }

    /// <summary>Every id bucket (<see cref="BucketCount"/> of them, empty ones included), rows in result order.</summary>
    public static IEnumerable<(int Bucket, ResultImageEntry[] Rows)> IdBuckets(ClusteringResult result, ClusterCentres centres, IReadOnlyList<int>? imageIndices)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(centres);
        var count = BucketCount(result.Images.Count);
        var bucketOfRow = result.Images.Select(image => BucketOf(image.Id, count)).ToArray();
        // Counting sort of the rows by bucket: O(N) ints, stable.
        var starts = new int[count + 1];
        foreach (var bucket in bucketOfRow)
        {
            starts[bucket + 1]++;
        }
        for (var b = 0; b < count; b++)
        {
            starts[b + 1] += starts[b];
        }
        var order = new int[bucketOfRow.Length];
        var next = starts[..count];
        for (var row = 0; row < bucketOfRow.Length; row++)
        {
            order[next[bucketOfRow[row]]++] = row;
        }
        for (var bucket = 0; bucket < count; bucket++)
        {
            yield return (bucket, order[starts[bucket]..starts[bucket + 1]].Select(row => EntryOf(result, centres, imageIndices, row)).ToArray());
        }
    }

    /// <summary>The errors in pages of <see cref="PageSize"/>, in result order (none: no pages).</summary>
    public static IEnumerable<(int Page, ImageError[] Rows)> ErrorPages(IReadOnlyList<ImageError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        for (var start = 0; start < errors.Count; start += PageSize)
        {
            yield return (start / PageSize, errors.Skip(start).Take(PageSize).ToArray());
        }
    }

    /// <summary>A page as the JSON bytes stored for it.</summary>
    public static byte[] ToJson<T>(IReadOnlyList<T> rows) => JsonSerializer.SerializeToUtf8Bytes(rows, Json);

    /// <summary>
    /// Appends a page's JSON (the bytes <see cref="ToJson"/> returns) to <paramref name="output"/>: a writer that reuses one
    /// buffer for every page makes no array per page (each about 150 KB, on the large-object heap, 2,000 of them at a million images).
    /// </summary>
    public static void WriteJson<T>(IBufferWriter<byte> output, IReadOnlyList<T> rows)
    {
        using var writer = new Utf8JsonWriter(output);
        JsonSerializer.Serialize(writer, rows, Json);
    }

    /// <summary>A page's rows from its JSON.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a page.</exception>
    public static T[] FromJson<T>(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize<T[]>(json, Json) ?? throw new InvalidDataException("an empty result page.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not a result page: {e.Message}", e);
        }
    }

    /// <summary>The index as the JSON bytes stored for it.</summary>
    public static byte[] IndexToJson(ResultPageIndex index) => JsonSerializer.SerializeToUtf8Bytes(index, Json);

    /// <summary>The index from its JSON.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a page index.</exception>
    public static ResultPageIndex IndexFromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize<ResultPageIndex>(json, Json) ?? throw new InvalidDataException("an empty result page index.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not a result page index: {e.Message}", e);
        }
    }

    // Distance-less results (no embeddings) sort by row alone.
    private static double Distance(ClusterCentres centres, int row) => double.IsNaN(centres.Distances[row]) ? 0 : centres.Distances[row];

    private static ResultImageEntry EntryOf(ClusteringResult result, ClusterCentres centres, IReadOnlyList<int>? imageIndices, int row)
    {
        var image = result.Images[row];
        var distance = centres.Distances[row];
        return new ResultImageEntry(
            row, image.Id, image.Cluster, image.Label, double.IsNaN(distance) ? null : distance, image.AnomalyScore, imageIndices?[row], image.ContentSha256);
    }
}
