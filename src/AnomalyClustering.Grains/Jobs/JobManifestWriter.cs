using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// Writes a job's manifest (<see cref="JobManifestStore"/>'s layout) as its images arrive: each chunk is written once it
/// is full, so that a prefix listing of a million names streams into the store instead of being held first. Checks what
/// can be checked per image (blob names, labels on every image or none, unique ids) as they come.
/// </summary>
/// <remarks>
/// Memory: one chunk of images per list, the class names, and the ids seen unless the caller vouches that they are
/// unique (the names of one listing are). One blob write per chunk. Not safe for concurrent use.
/// </remarks>
public sealed class JobManifestWriter
{
    private readonly IBlobStore _store;
    private readonly string _prefix;
    private readonly int _chunkSize;
    private readonly HashSet<string>? _ids;
    private readonly SortedSet<string> _classNames = new(StringComparer.Ordinal);
    private readonly List<JobImage> _images;
    private readonly List<JobImage> _normals;
    private int _imageChunks;
    private int _normalChunks;
    private bool? _labelled;
    private string? _firstId;
    private bool _completed;

    /// <summary>A writer of the manifest under <paramref name="prefix"/> in chunks of <paramref name="chunkSize"/> images.</summary>
    /// <param name="store">The store the chunks go to.</param>
    /// <param name="prefix">The manifest's folder (<see cref="JobBlobNames.Manifest"/>).</param>
    /// <param name="chunkSize">Images per chunk (one shard's work).</param>
    /// <param name="idsAreUnique">True when the caller knows the ids are unique (the paths of one listing): they are then not kept to be checked.</param>
    public JobManifestWriter(IBlobStore store, string prefix, int chunkSize = JobManifestStore.DefaultChunkSize, bool idsAreUnique = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        _store = store;
        _prefix = prefix;
        _chunkSize = chunkSize;
        _ids = idsAreUnique ? null : new HashSet<string>(StringComparer.Ordinal);
        _images = new List<JobImage>(Math.Min(chunkSize, 1 << 16));
        _normals = [];
    }

    /// <summary>Images to cluster added so far.</summary>
    public int ImageCount { get; private set; }

    /// <summary>Normal images added so far.</summary>
    public int NormalImageCount { get; private set; }

    /// <summary>Adds the next image to cluster; writes a chunk when one is full.</summary>
    /// <exception cref="InvalidJobException">Its id repeats an earlier one, its label presence differs from the earlier images', or its blob name is not allowed.</exception>
    public async Task AddImageAsync(JobImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ThrowIfCompleted();
        CheckBlobName(image);
        if (_ids is not null && !_ids.Add(image.Id))
        {
            throw new InvalidJobException($"image id '{image.Id}' occurs twice; ids must be unique.", "images");
        }
        var labelled = image.Label is not null;
        _labelled ??= labelled;
        _firstId ??= image.Id;
        if (labelled != _labelled)
        {
            throw new InvalidJobException(
                $"image '{(labelled ? _firstId : image.Id)}' has no label but '{(labelled ? image.Id : _firstId)}' has one; label every image or none.", "images");
        }
        if (image.Label is { } label)
        {
            _classNames.Add(label);
        }
        _images.Add(image);
        ImageCount++;
        if (_images.Count == _chunkSize)
        {
            await FlushAsync(_images, ImageChunkName(_imageChunks++), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Adds the next normal image (semi-supervised mode); writes a chunk when one is full.</summary>
    /// <exception cref="InvalidJobException">Its blob name is not allowed.</exception>
    public async Task AddNormalImageAsync(JobImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ThrowIfCompleted();
        CheckBlobName(image);
        _normals.Add(image);
        NormalImageCount++;
        if (_normals.Count == _chunkSize)
        {
            await FlushAsync(_normals, NormalChunkName(_normalChunks++), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the last chunks and returns the reference a submission carries.</summary>
    /// <exception cref="InvalidJobException">No image to cluster was added.</exception>
    public async Task<JobManifestReference> CompleteAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (ImageCount == 0)
        {
            throw new InvalidJobException("the dataset has no images to cluster.", "images");
        }
        if (_images.Count > 0)
        {
            await FlushAsync(_images, ImageChunkName(_imageChunks++), cancellationToken).ConfigureAwait(false);
        }
        if (_normals.Count > 0)
        {
            await FlushAsync(_normals, NormalChunkName(_normalChunks++), cancellationToken).ConfigureAwait(false);
        }
        _completed = true;
        // A string[], not a collection expression: the Redis grain storage writes the runtime type with the state (Newtonsoft
        // type names), and the compiler's read-only list type behind [.. x] cannot be resolved when the state is read back.
        return new JobManifestReference(_prefix, ImageCount, NormalImageCount, _chunkSize, _labelled == true ? _classNames.ToArray() : Array.Empty<string>());
    }

    private string ImageChunkName(int chunk) => JobManifestStore.ImageChunkName(_prefix, chunk);

    private string NormalChunkName(int chunk) => JobManifestStore.NormalChunkName(_prefix, chunk);

    private async Task FlushAsync(List<JobImage> chunk, string name, CancellationToken cancellationToken)
    {
        await JobManifestStore.WriteChunkAsync(_store, name, chunk, cancellationToken).ConfigureAwait(false);
        chunk.Clear();
    }

    private void ThrowIfCompleted() => ObjectDisposedException.ThrowIf(_completed, this);

    private static void CheckBlobName(JobImage image)
    {
        try
        {
            // A bad name would otherwise surface per image as an internal error of the store.
            BlobName.Validate(image.BlobName);
        }
        catch (InvalidBlobNameException e)
        {
            throw new InvalidJobException($"image blob name '{e.RejectedName}' is not allowed: {e.Message}", "images");
        }
    }
}
