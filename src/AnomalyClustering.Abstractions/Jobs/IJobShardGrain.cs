namespace AnomalyClustering.Abstractions.Jobs;

/// <summary>
/// One chunk of a job's images (key <c>{jobId}/s{shard}</c>, see <see cref="JobShardKey"/>), on coordinator silos: has each
/// image of its manifest chunk embedded and weighed by its image grain, keeps which are done in a bitmap, and when all are
/// done writes the chunk's image embeddings and scores as one columnar blob for the clustering stage. Its state is bounded
/// by the chunk size, so a checkpoint costs the same in a job of any size; a shard reactivated elsewhere goes on from its
/// bitmap.
/// </summary>
[Alias("AnomalyClustering.IJobShardGrain")]
public interface IJobShardGrain : IGrainWithStringKey
{
    /// <summary>
    /// Stopping waits for the shard's image calls in flight, up to 20 s (the shard's ImageCallWatchdog, its calls waited
    /// for together), then writes the state: more than Orleans' default 30 s must be allowed. Cancel and Delete of the
    /// job's coordinator, which stop its shards, get the same.
    /// </summary>
    public const string StopTimeout = "00:01:30";

    /// <summary>
    /// Starts (or, after a failure or a move to another silo, resumes) the shard's work unless it runs or is done, and
    /// returns its progress at once. The coordinator calls it again to follow the shard; every call is idempotent.
    /// </summary>
    [Alias("Run")]
    Task<ShardProgress> Run(ShardWork work);

    /// <summary>Stops the shard's work (the job was cancelled or deleted); the progress made so far stays.</summary>
    [Alias("Stop"), ResponseTimeout(StopTimeout)]
    Task Stop();

    /// <summary>Stops the shard's work and clears its persisted state (the job is deleted).</summary>
    [Alias("Forget"), ResponseTimeout(StopTimeout)]
    Task Forget();

    /// <summary>The images of this shard that could not be used, and why.</summary>
    [Alias("GetFailures")]
    Task<IReadOnlyList<ImageFailure>> GetFailures();
}

/// <summary>The keys of shard grains.</summary>
public static class JobShardKey
{
    /// <summary>The key of shard <paramref name="shard"/> of the job (job ids hold no '/').</summary>
    public static string For(string jobId, int shard) => $"{jobId}/s{shard}";

    /// <summary>The job id of a shard key made by <see cref="For"/>.</summary>
    public static string JobIdOf(string key) => key[..Math.Max(0, key.LastIndexOf('/'))];

    /// <summary>The shard number of a key made by <see cref="For"/>.</summary>
    public static int ShardOf(string key) => int.Parse(key.AsSpan(key.LastIndexOf('/') + 2), System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// What a shard needs to process its images, the same for every shard of a job: the manifest, the options and backbone,
/// and what every image is weighed against (fixed by the coordinator before any shard starts).
/// </summary>
/// <param name="Manifest">The job's manifest; the shard reads its own chunk.</param>
/// <param name="Options">The job options.</param>
/// <param name="BackboneDescriptionJson">The job's backbone.</param>
/// <param name="ReferenceImages">
/// Unsupervised: the image indices of the usable reference pool, in drawing order (an image uses the first R of them other
/// than itself); empty otherwise.
/// </param>
/// <param name="ReferenceFeatureBlobs">The patch bags of <paramref name="ReferenceImages"/>, in the same order.</param>
/// <param name="ReferencesPerImage">R, the references each image is compared with.</param>
/// <param name="NormalFeatureBlobs">Semi-supervised: the usable normal images' patch bags, in the job's order.</param>
/// <param name="MaxInFlightImages">Image grain calls the shard keeps in flight.</param>
/// <param name="CacheFeatures">True to keep every image's patch bag in the feature cache (the coordinator's decision).</param>
/// <param name="ReferenceContentHashes">The SHA-256 of each of <paramref name="ReferenceImages"/>' files, in the same order; null when unknown.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.ShardWork")]
public sealed record ShardWork(
    [property: Id(0)] JobManifestReference Manifest,
    [property: Id(1)] JobOptions Options,
    [property: Id(2)] string BackboneDescriptionJson,
    [property: Id(3)] IReadOnlyList<int> ReferenceImages,
    [property: Id(4)] IReadOnlyList<string> ReferenceFeatureBlobs,
    [property: Id(5)] int ReferencesPerImage,
    [property: Id(6)] IReadOnlyList<string> NormalFeatureBlobs,
    [property: Id(7)] int MaxInFlightImages,
    [property: Id(8)] bool CacheFeatures,
    [property: Id(9)] IReadOnlyList<string?>? ReferenceContentHashes = null);

/// <summary>How far a shard is.</summary>
/// <param name="Images">Images in the shard.</param>
/// <param name="Processed">Images done (embedded and weighed, or failed).</param>
/// <param name="Failed">Of <paramref name="Processed"/>, images that could not be used.</param>
/// <param name="CacheHits">Of <paramref name="Processed"/>, patch bags read from the feature cache.</param>
/// <param name="EmbeddingsBlob">The columnar blob of the shard's image embeddings once every image is done; null before.</param>
/// <param name="GridHeight">Rows of the patch grid (0 until an image succeeded).</param>
/// <param name="GridWidth">Columns of the patch grid.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.ShardProgress")]
public sealed record ShardProgress(
    [property: Id(0)] int Images,
    [property: Id(1)] int Processed,
    [property: Id(2)] int Failed,
    [property: Id(3)] int CacheHits,
    [property: Id(4)] string? EmbeddingsBlob,
    [property: Id(5)] int GridHeight,
    [property: Id(6)] int GridWidth)
{
    /// <summary>True once every image is done and the embeddings blob is written.</summary>
    public bool IsComplete => EmbeddingsBlob is not null;
}
