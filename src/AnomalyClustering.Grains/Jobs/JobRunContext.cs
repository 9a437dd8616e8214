using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// What the stages of one job's run share with its coordinator grain: the job's persisted state, the cluster and the
/// store, and the grain's own checkpointing (its turns, its write gate). The stages run on the grain's scheduler, so the
/// state is touched by one turn at a time.
/// </summary>
internal sealed class JobRunContext(
    string jobId, Func<JobCoordinatorState> state, IGrainFactory grains, IBlobStore store, CoordinatorOptions options, ILogger logger,
    Func<Task> checkpoint, Func<Task> writeState, CoordinatorCentreAssignment? centreAssignment = null)
{
    public string JobId => jobId;

    public JobCoordinatorState State => state();

    public JobSpecification Specification => State.Specification!;

    public JobManifestReference Manifest => Specification.Manifest;

    public IGrainFactory Grains => grains;

    public IBlobStore Store => store;

    public CoordinatorOptions Options => options;

    public ILogger Logger => logger;

    /// <summary>The silo's k-means assignment step for the two-stage clustering (null: the SIMD kernel).</summary>
    public CoordinatorCentreAssignment? CentreAssignment => centreAssignment;

    /// <summary>Gives up on the coordinator's own image calls (references, normal scores) that stall (see <see cref="ImageCallWatchdog"/>).</summary>
    public ImageCallWatchdog ImageCalls { get; } = new(options.ImageCallStallTimeout, logger, $"Job {jobId}");

    /// <summary>The latest progress of each shard that runs now.</summary>
    public Dictionary<int, ShardProgress> ActiveShards => State.ActiveShards;

    /// <summary>Reference or normal images embedded so far in this activation's reference phase (status only).</summary>
    public int ReferencesEmbedded { get; set; }

    /// <summary>How many images the reference phase embeds, once it knows (status only; see <see cref="JobStatus.ReferenceImagesToEmbed"/>).</summary>
    public int ReferencesToEmbed { get; set; }

    /// <summary>Adds <paramref name="elapsed"/> to the time spent in <paramref name="stage"/>, summed over resumptions.</summary>
    public void AddStageTime(AnomalyClustering.Jobs.PipelineStage stage, TimeSpan elapsed) =>
        State.StageSeconds[stage.ToString()] = State.StageSeconds.GetValueOrDefault(stage.ToString()) + elapsed.TotalSeconds;

    /// <summary>Writes the state if the checkpoint interval has passed since the last write.</summary>
    public Task CheckpointAsync() => checkpoint();

    /// <summary>Writes the state now.</summary>
    public Task WriteStateAsync() => writeState();

    /// <summary>
    /// Runs <paramref name="process"/> for every item with at most <see cref="CoordinatorOptions.MaxInFlightImages"/> in
    /// flight, checkpointing as items complete and writing the state at the end.
    /// </summary>
    public async Task ForEachBoundedAsync<T>(IEnumerable<T> items, Func<T, Task> process, CancellationToken cancellationToken)
    {
        await BoundedFanOut.ForEachAsync(items, options.MaxInFlightImages, process, checkpoint, cancellationToken).ConfigureAwait(true);
        await writeState().ConfigureAwait(true);
    }
}
