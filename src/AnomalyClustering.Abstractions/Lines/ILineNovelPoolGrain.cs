using Orleans.Concurrency;

namespace AnomalyClustering.Abstractions.Lines;

/// <summary>
/// The novel pool of one production line (key: the line's blob prefix, <c>lines/{tenant}/{name}/</c>), placed on
/// coordinator silos: one activation per line serialises additions and naming, so that the pool's bound holds under
/// concurrent intake, and runs one recluster at a time beside them (the automatic one every M novel images, or one asked for).
/// </summary>
[Alias("AnomalyClustering.ILineNovelPoolGrain")]
public interface ILineNovelPoolGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds the images not pooled before (by image id). When the line's setting says the pool grew enough, an automatic
    /// recluster is started after the call (or once the running one ends); the call never waits for a recluster.
    /// </summary>
    [Alias("Add")]
    Task Add(IReadOnlyList<NovelPoolImage> images);

    /// <summary>
    /// Clusters the pool into proposals (<paramref name="clusterCount"/> null: chosen automatically) and stores them; waits
    /// for a recluster that is running first. Interleaves with additions, which go on meanwhile. A recluster of a full pool
    /// outlasts a grain call: callers that answer a person use <see cref="RequestRecluster"/>.
    /// </summary>
    [AlwaysInterleave]
    [Alias("Recluster")]
    Task<NovelProposalSet> Recluster(int? clusterCount);

    /// <summary>
    /// Asks for a recluster into <paramref name="clusterCount"/> proposals (null: chosen automatically) and returns at once:
    /// it runs after the running one, before the automatic ones due. A request for the same K that is still waiting is
    /// joined (its request is returned). Its result is the stored proposals with its <see cref="NovelProposalSet.RequestId"/>;
    /// its failure a <see cref="NovelReclusterFailure"/> with its request id, kept by the grain
    /// (<see cref="NovelReclusterStatus.Failures"/>) and stored among the pool's failures.
    /// </summary>
    /// <exception cref="NovelPoolException">The pool is empty (<see cref="NovelPoolError.EmptyPool"/>) or holds fewer images than K (<see cref="NovelPoolError.Invalid"/>).</exception>
    [AlwaysInterleave]
    [Alias("RequestRecluster")]
    Task<NovelReclusterRequest> RequestRecluster(int? clusterCount);

    /// <summary>Makes proposal <paramref name="proposalId"/> of the newest recluster a defect type named <paramref name="name"/> of the next catalog version; returns that version.</summary>
    [Alias("Name")]
    Task<int> Name(string proposalId, string name);

    /// <summary>
    /// The recluster running now, the requested ones waiting for it in the order they will run, and the failures of this
    /// activation's recent reclusters (also those whose record the store did not take yet).
    /// </summary>
    [AlwaysInterleave]
    [Alias("ReclusterStatus")]
    Task<NovelReclusterStatus> ReclusterStatus();

    /// <summary>
    /// The line's blobs were deleted: waits for a recluster storing its result now (it found the line before the deletion)
    /// and deletes what it wrote; a recluster running on stores nothing (it finds no catalog), so a line made again under the
    /// same name starts without the deleted line's proposals.
    /// </summary>
    [Alias("LineDeleted")]
    Task LineDeleted();
}

/// <summary>One image decided novel, as the pool keeps it.</summary>
/// <param name="ImageId">The image id (the idempotency key).</param>
/// <param name="FileName">The file name it was sent with, for people.</param>
/// <param name="Embedding">Its bag embedding x_i.</param>
/// <param name="AnomalyScore">Its image anomaly score (null in the average mode).</param>
/// <param name="NoveltyScore">Its distance to the nearest known type over that type's acceptance radius (null when the radius is 0).</param>
/// <param name="DecidedAt">When it was decided.</param>
/// <param name="CatalogVersion">The catalog version that found it novel.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NovelPoolImage")]
public sealed record NovelPoolImage(
    [property: Id(0)] string ImageId,
    [property: Id(1)] string? FileName,
    [property: Id(2)] float[] Embedding,
    [property: Id(3)] double? AnomalyScore,
    [property: Id(4)] double? NoveltyScore,
    [property: Id(5)] DateTimeOffset DecidedAt,
    [property: Id(6)] int CatalogVersion);

/// <summary>The proposals of one recluster of a line's novel pool.</summary>
/// <param name="Run">The recluster's number, 1 for the line's first; proposal ids are only valid for the newest run.</param>
/// <param name="CreatedAt">When it ran.</param>
/// <param name="PoolSize">Images in the pool when it ran.</param>
/// <param name="Automatic">True when the number of clusters was chosen automatically.</param>
/// <param name="Proposals">The proposals, largest first.</param>
/// <param name="RequestId">The <see cref="NovelReclusterRequest.RequestId"/> of the request it answers; null for an automatic recluster.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NovelProposalSet")]
public sealed record NovelProposalSet(
    [property: Id(0)] int Run,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] int PoolSize,
    [property: Id(3)] bool Automatic,
    [property: Id(4)] IReadOnlyList<NovelProposal> Proposals,
    [property: Id(5)] string? RequestId = null);

/// <summary>A recluster of a line's novel pool that has started and not ended yet.</summary>
/// <param name="StartedAt">When it started reading the pool; the images pooled after that are not part of it.</param>
/// <param name="Automatic">True when the pool's <see cref="NovelPoolSettings.ReclusterEvery"/> started it, false when it was asked for.</param>
/// <param name="RequestId">The request it answers (<see cref="NovelReclusterRequest.RequestId"/>); null when automatic.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NovelReclusterInProgress")]
public sealed record NovelReclusterInProgress(
    [property: Id(0)] DateTimeOffset StartedAt,
    [property: Id(1)] bool Automatic,
    [property: Id(2)] string? RequestId = null);

/// <summary>A recluster asked for and accepted (<see cref="ILineNovelPoolGrain.RequestRecluster"/>); it has not necessarily started.</summary>
/// <param name="RequestId">Its id: the stored proposals (<see cref="NovelProposalSet.RequestId"/>) or the failure (<see cref="NovelReclusterFailure.RequestId"/>) it ends in carry it.</param>
/// <param name="RequestedAt">When it was accepted; it reads the pool as it is then or later.</param>
/// <param name="ClusterCount">K, or null to choose it.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NovelReclusterRequest")]
public sealed record NovelReclusterRequest(
    [property: Id(0)] string RequestId,
    [property: Id(1)] DateTimeOffset RequestedAt,
    [property: Id(2)] int? ClusterCount);

/// <summary>The recluster running now (null when none is), the requested ones waiting, in the order they will run, and recent failures.</summary>
/// <param name="Running">The running recluster.</param>
/// <param name="Waiting">The requested reclusters not started yet.</param>
/// <param name="Failures">
/// The failures of the reclusters this activation ran, newest first (the newest automatic one and the newest
/// <see cref="NovelReclusterFailure.Kept"/> requested ones): a failure whose record the store could not take (it was away)
/// is known here until the record is written.
/// </param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NovelReclusterStatus")]
public sealed record NovelReclusterStatus(
    [property: Id(0)] NovelReclusterInProgress? Running,
    [property: Id(1)] IReadOnlyList<NovelReclusterRequest> Waiting,
    [property: Id(2)] IReadOnlyList<NovelReclusterFailure>? Failures = null);

/// <summary>A recluster of a line's novel pool that stored nothing, and why; kept among the pool's newest failures.</summary>
/// <param name="FailedAt">When it failed; a stored set created later is a later recluster's success.</param>
/// <param name="Automatic">True when the pool's settings started it.</param>
/// <param name="Error">
/// What went wrong (<see cref="NovelPoolError.Invalid"/> for a pool that cannot be cut into K, such as tied distances;
/// <see cref="NovelPoolError.Unavailable"/> when the store could not be reached, so that the same request can be made again).
/// </param>
/// <param name="Message">Why, for a person.</param>
/// <param name="RequestId">The request it answers; null when automatic.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NovelReclusterFailure")]
public sealed record NovelReclusterFailure(
    [property: Id(0)] DateTimeOffset FailedAt,
    [property: Id(1)] bool Automatic,
    [property: Id(2)] NovelPoolError Error,
    [property: Id(3)] string Message,
    [property: Id(4)] string? RequestId = null)
{
    /// <summary>How many requested reclusters' failures a pool keeps (beside its newest automatic one's), newest first.</summary>
    public const int Kept = 16;
}

/// <summary>One proposed defect type: a cluster of the novel pool.</summary>
/// <param name="Id">Its id within the run (<c>p1</c>, <c>p2</c>, ..., largest first).</param>
/// <param name="Size">Its member count.</param>
/// <param name="Spread">The root-mean-square distance of its members to its centroid.</param>
/// <param name="Centroid">The mean of its members' embeddings.</param>
/// <param name="Members">Its members' image ids.</param>
/// <param name="NamedAs">The name it was given, once it was (null before).</param>
/// <param name="CatalogVersion">The catalog version it became part of, once named (null before).</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NovelProposal")]
public sealed record NovelProposal(
    [property: Id(0)] string Id,
    [property: Id(1)] int Size,
    [property: Id(2)] double Spread,
    [property: Id(3)] float[] Centroid,
    [property: Id(4)] IReadOnlyList<string> Members,
    [property: Id(5)] string? NamedAs = null,
    [property: Id(6)] int? CatalogVersion = null);

/// <summary>The novel-pool settings of a line.</summary>
/// <param name="Capacity">The most images the pool holds; beyond it the oldest (by decision time) leaves.</param>
/// <param name="ReclusterEvery">Recluster automatically once this many images joined the pool since the last recluster; 0 never.</param>
/// <param name="ClusterCount">The number of clusters of an automatic recluster; null chooses it.</param>
[GenerateSerializer, Immutable, Alias("AnomalyClustering.NovelPoolSettings")]
public sealed record NovelPoolSettings(
    [property: Id(0)] int Capacity = NovelPoolSettings.DefaultCapacity,
    [property: Id(1)] int ReclusterEvery = 0,
    [property: Id(2)] int? ClusterCount = null)
{
    /// <summary>The default bound: 2,000 images keep a recluster's Ward distance matrix at 16 MB and its time in seconds.</summary>
    public const int DefaultCapacity = 2000;

    /// <summary>The largest bound a line may set: 20,000 images (a 1.6 GB distance matrix for a recluster).</summary>
    public const int MaximumCapacity = 20000;
}

/// <summary>What went wrong with a novel-pool request; the API answers 404, 409, 400 or 503 by it, the CLI one line.</summary>
[GenerateSerializer, Alias("AnomalyClustering.NovelPoolError")]
public enum NovelPoolError
{
    /// <summary>The line does not exist.</summary>
    UnknownLine,

    /// <summary>The pool holds no image.</summary>
    EmptyPool,

    /// <summary>The newest recluster has no such proposal, or it was named already.</summary>
    UnknownProposal,

    /// <summary>The name is a defect type's of the catalog already, or a reserved decision.</summary>
    NameClash,

    /// <summary>The pool's or proposal's embeddings do not fit together or with the catalog.</summary>
    Conflict,

    /// <summary>The request itself is not valid (a blank name).</summary>
    Invalid,

    /// <summary>The blob store could not be reached: nothing was changed, and the same request can be made again once it is back.</summary>
    Unavailable,
}

/// <summary>A novel-pool request that cannot be done, with a message a person can act on.</summary>
[GenerateSerializer, Alias("AnomalyClustering.NovelPoolException")]
public sealed class NovelPoolException : Exception
{
    /// <summary>Creates the exception with what went wrong and a message for a person.</summary>
    public NovelPoolException(NovelPoolError error, string message) : base(message) => Error = error;

    /// <summary>What went wrong.</summary>
    [Id(0)] public NovelPoolError Error { get; init; }
}
