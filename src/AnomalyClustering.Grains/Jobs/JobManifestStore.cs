using System.Runtime.CompilerServices;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// A job's image list in the blob store: the images to cluster in chunks of <see cref="JobManifestReference.ChunkSize"/>
/// (<c>images-000000.json</c>, ...), then the normal images in chunks of the same size (<c>normal-000000.json</c>, ...), each
/// chunk a JSON array of <see cref="JobImage"/>. Written once by the submitter (from lists, or streamed in as a prefix
/// listing arrives: <see cref="JobManifestWriter"/>), read by the coordinator (a reference or
/// normal image by index), by each shard (its chunk) and by the result stage (ids and labels), each reading only what it needs.
/// </summary>
public static class JobManifestStore
{
    /// <summary>Images per chunk unless the submitter asks otherwise: one shard grain's work, a few hundred KB of list.</summary>
    public const int DefaultChunkSize = 4_096;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Checks and writes <paramref name="images"/> and <paramref name="normalImages"/> under <paramref name="prefix"/> and
    /// returns the reference a submission carries.
    /// </summary>
    /// <exception cref="InvalidJobException">Ids repeat, some images carry labels and others not, or a blob name is not allowed.</exception>
    public static async Task<JobManifestReference> WriteAsync(
        IBlobStore store, string prefix, IReadOnlyList<JobImage> images, IReadOnlyList<JobImage> normalImages,
        int chunkSize = DefaultChunkSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(normalImages);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        // The whole-list checks first, so that a list that is no dataset writes nothing; the writer then need not keep the ids.
        Check(images, normalImages);
        var writer = new JobManifestWriter(store, prefix, chunkSize, idsAreUnique: true);
        foreach (var image in images)
        {
            await writer.AddImageAsync(image, cancellationToken).ConfigureAwait(false);
        }
        foreach (var image in normalImages)
        {
            await writer.AddNormalImageAsync(image, cancellationToken).ConfigureAwait(false);
        }
        return await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Chunk <paramref name="chunk"/> of the images to cluster.</summary>
    public static Task<JobImage[]> ReadImageChunkAsync(IBlobStore store, JobManifestReference manifest, int chunk, CancellationToken cancellationToken = default) =>
        ReadChunkAsync(store, ImageChunkName(manifest.Prefix, chunk), cancellationToken);

    /// <summary>Chunk <paramref name="chunk"/> of the normal images.</summary>
    public static Task<JobImage[]> ReadNormalChunkAsync(IBlobStore store, JobManifestReference manifest, int chunk, CancellationToken cancellationToken = default) =>
        ReadChunkAsync(store, NormalChunkName(manifest.Prefix, chunk), cancellationToken);

    /// <summary>Image <paramref name="index"/> of the images to cluster (or of the normal images when <paramref name="normal"/>).</summary>
    public static async Task<JobImage> ReadImageAsync(
        IBlobStore store, JobManifestReference manifest, int index, bool normal = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, normal ? manifest.NormalImageCount : manifest.ImageCount);
        var name = normal ? NormalChunkName(manifest.Prefix, index / manifest.ChunkSize) : ImageChunkName(manifest.Prefix, index / manifest.ChunkSize);
        var chunk = await ReadChunkAsync(store, name, cancellationToken).ConfigureAwait(false);
        return chunk[index % manifest.ChunkSize];
    }

    /// <summary>Every image to cluster, in order, a chunk at a time.</summary>
    public static async IAsyncEnumerable<JobImage> ReadImagesAsync(
        IBlobStore store, JobManifestReference manifest, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        for (var chunk = 0; chunk < manifest.ImageChunkCount; chunk++)
        {
            foreach (var image in await ReadImageChunkAsync(store, manifest, chunk, cancellationToken).ConfigureAwait(false))
            {
                yield return image;
            }
        }
    }

    /// <summary>The blob of chunk <paramref name="chunk"/> of the images to cluster.</summary>
    internal static string ImageChunkName(string prefix, int chunk) => $"{prefix}images-{chunk:D6}.json";

    /// <summary>The blob of chunk <paramref name="chunk"/> of the normal images.</summary>
    internal static string NormalChunkName(string prefix, int chunk) => $"{prefix}normal-{chunk:D6}.json";

    /// <summary>Writes one chunk as its JSON array.</summary>
    internal static async Task WriteChunkAsync(IBlobStore store, string name, IReadOnlyList<JobImage> chunk, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream();
        await JsonSerializer.SerializeAsync(content, chunk, Json, cancellationToken).ConfigureAwait(false);
        content.Position = 0;
        await store.PutAsync(name, content, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static async Task<JobImage[]> ReadChunkAsync(IBlobStore store, string name, CancellationToken cancellationToken)
    {
        await using var content = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync<JobImage[]>(content, Json, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"manifest chunk '{name}' is empty.");
    }

    /// <summary>The checks that need the whole list (those of a dataset), made once by the submitter.</summary>
    private static void Check(IReadOnlyList<JobImage> images, IReadOnlyList<JobImage> normalImages)
    {
        try
        {
            _ = new ClusteringDataset(
                images.Select(image => new DatasetImage(image.Id, image.BlobName, image.Label)).ToArray(),
                normalImages.Select(image => new DatasetImage(image.Id, image.BlobName, image.Label)).ToArray());
        }
        catch (InvalidClusteringInputException e)
        {
            throw new InvalidJobException(e.Message, "images");
        }
        foreach (var image in images.Concat(normalImages))
        {
            try
            {
                // Before anything is written (the writer checks each name again as it comes).
                BlobName.Validate(image.BlobName);
            }
            catch (InvalidBlobNameException e)
            {
                throw new InvalidJobException($"image blob name '{e.RejectedName}' is not allowed: {e.Message}", "images");
            }
        }
    }
}
