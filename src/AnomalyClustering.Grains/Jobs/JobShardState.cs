using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// What a shard grain persists (grain storage <c>jobs</c>): which of its images are done, as a bitmap, and the failures
/// among them. Bounded by the chunk size, so a checkpoint writes the same few hundred bytes in a job of any size; the
/// embeddings of done images are in their outcome blobs, read back by a shard that resumes.
/// </summary>
[GenerateSerializer, Alias("AnomalyClustering.JobShardState")]
public sealed class JobShardState
{
    /// <summary>One bit per image of the chunk: set once the image is done (processed or failed).</summary>
    [Id(0)] public ulong[] Done { get; set; } = [];

    /// <summary>Images of the chunk that could not be used.</summary>
    [Id(1)] public List<ImageFailure> Failures { get; set; } = [];

    /// <summary>Images done.</summary>
    [Id(2)] public int Processed { get; set; }

    /// <summary>Patch bags read rather than computed.</summary>
    [Id(3)] public int CacheHits { get; set; }

    /// <summary>The columnar embeddings blob once the chunk is complete.</summary>
    [Id(4)] public string? EmbeddingsBlob { get; set; }

    /// <summary>Rows of the patch grid.</summary>
    [Id(5)] public int GridHeight { get; set; }

    /// <summary>Columns of the patch grid.</summary>
    [Id(6)] public int GridWidth { get; set; }

    /// <summary>Images in the chunk (0 until the shard first ran).</summary>
    [Id(7)] public int Images { get; set; }

    /// <summary>True when image <paramref name="position"/> of the chunk is done.</summary>
    public bool IsDone(int position) => (Done[position >> 6] & (1UL << (position & 63))) != 0;

    /// <summary>Marks image <paramref name="position"/> of the chunk done.</summary>
    public void MarkDone(int position) => Done[position >> 6] |= 1UL << (position & 63);
}
