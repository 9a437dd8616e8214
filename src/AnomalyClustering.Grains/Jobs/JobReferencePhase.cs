using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;
using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// The first stage of a job: fixes what every image is weighed against before any image is processed, so that each image
/// is then embedded and weighed in one go with no cluster-wide barrier. Semi-supervised: the seeded normal images are
/// embedded and their bags stored (the normal bank). Unsupervised: the seeded reference pool of R+1 images (every image
/// when the scores are exact) is embedded and stored; a pool member that cannot be used is replaced by the next seeded
/// candidate. Average: nothing to fix.
/// </summary>
internal static class JobReferencePhase
{
    public static async Task RunAsync(JobRunContext run, ClusteringJobOptions options, CancellationToken cancellationToken)
    {
        var state = run.State;
        for (var round = 1; ; round++)
        {
            if (options.Mode == ClusteringMode.SemiSupervised)
            {
                await EmbedNormalImagesAsync(run, options, cancellationToken).ConfigureAwait(true);
            }
            else if (options.Mode == ClusteringMode.Unsupervised)
            {
                await DrawReferencePoolAsync(run, options, cancellationToken).ConfigureAwait(true);
            }
            // Pinned before any image is weighed against them: a feature-cache retention must not expire them while the job
            // exists (its shards read them, and lines made from it score new images against them). Unpinned by its deletion.
            string[] bags = [.. state.ReferenceFeatures, .. state.NormalFeatures.OfType<string>()];
            await FeatureCachePins.PinAsync(run.Store, FeatureCachePins.JobOwner(run.JobId), bags, cancellationToken).ConfigureAwait(true);
            // A bag found in the cache can have expired between that read and the pin, which keeps entries only from now on:
            // those images are embedded again (their new entries are pinned already, so a second round finds them all).
            var expired = await FeatureCachePins.MissingAsync(run.Store, bags, cancellationToken).ConfigureAwait(true);
            if (expired.Count == 0)
            {
                break;
            }
            if (round == MaxPinRounds)
            {
                throw new InvalidOperationException(
                    $"{expired.Count} of the job's normal or reference bags were deleted after being pinned, {round} times; something other than the feature-cache retention deletes pinned entries.");
            }
            run.Logger.LogWarning("Job {JobId}: {Expired} normal or reference bags expired before they were pinned; embedding those images again", run.JobId, expired.Count);
            ForgetExpiredNormals(state, expired);
        }
        state.ReferencesFixed = true;
        await run.WriteStateAsync().ConfigureAwait(true);
    }

    // Rounds of embed, pin and check: a second round always finds its bags (they are pinned before they are written again).
    private const int MaxPinRounds = 3;

    /// <summary>
    /// Marks the normal images whose bags expired as not embedded, so that the next round embeds them again (the reference
    /// pool is drawn again whole: its hits cost a read each). They were cache hits: no longer counted as such.
    /// </summary>
    private static void ForgetExpiredNormals(JobCoordinatorState state, IReadOnlySet<string> expired)
    {
        for (var n = 0; n < state.NormalFeatures.Length; n++)
        {
            if (state.NormalFeatures[n] is { } bag && expired.Contains(bag))
            {
                state.NormalFeatures[n] = null;
                state.NormalEmbedded[n] = false;
                state.CacheHits = Math.Max(0, state.CacheHits - 1);
            }
        }
    }

    private static async Task EmbedNormalImagesAsync(JobRunContext run, ClusteringJobOptions options, CancellationToken cancellationToken)
    {
        var state = run.State;
        var manifest = run.Manifest;
        if (state.NormalEmbedded.Length == 0)
        {
            state.SelectedNormals = JobPlan.SelectNormalImageIndices(manifest.NormalImageCount, options.NormalImageLimit, options.Seed);
            state.NormalEmbedded = new bool[state.SelectedNormals.Length];
            state.NormalFeatures = new string?[state.SelectedNormals.Length];
        }
        var chunks = new ManifestChunks(run, normal: true);
        // A run resumed after a fault counts from what is already embedded.
        run.ReferencesEmbedded = state.NormalEmbedded.Count(done => done);
        run.ReferencesToEmbed = state.SelectedNormals.Length;
        var pending = Enumerable.Range(0, state.SelectedNormals.Length).Where(n => !state.NormalEmbedded[n]).ToArray();
        await run.ForEachBoundedAsync(pending, async n =>
        {
            var image = await chunks.ImageAsync(state.SelectedNormals[n], cancellationToken).ConfigureAwait(true);
            var outcome = await EmbedAsync(run, image, ImageGrainKey.For(run.JobId, n, isNormal: true), isNormal: true, cancellationToken).ConfigureAwait(true);
            if (outcome.Failure is { } failure)
            {
                state.Failures.Add(failure);
            }
            else
            {
                state.CacheHits += outcome.CacheHit ? 1 : 0;
            }
            state.NormalFeatures[n] = outcome.FeatureBlob;
            state.NormalEmbedded[n] = true;
            run.ReferencesEmbedded++;
        }, cancellationToken).ConfigureAwait(true);
        if (state.NormalFeatures.All(blob => blob is null))
        {
            throw new InvalidClusteringInputException(
                $"none of the {state.SelectedNormals.Length} normal images could be used; semi-supervised mode needs at least one{MessageParts.InParentheses(state.Failures.FirstOrDefault()?.Message)}.", "normalImages");
        }
    }

    private static async Task DrawReferencePoolAsync(JobRunContext run, ClusteringJobOptions options, CancellationToken cancellationToken)
    {
        var state = run.State;
        var imageCount = run.Manifest.ImageCount;
        var exact = !JobPlan.UsesReferenceSample(options, imageCount);
        // Exact scores compare every image with all the others, in index order (the order ReferenceSample sums them in).
        var wanted = exact ? imageCount : options.ReferenceCount + 1;
        using var candidates = (exact ? Enumerable.Range(0, imageCount) : ReferenceSample.DrawingOrder(imageCount, unchecked((ulong)options.Seed))).GetEnumerator();
        var chunks = new ManifestChunks(run, normal: false);
        // A run resumed after a fault draws the pool again (its bags are in the feature cache by then).
        run.ReferencesEmbedded = 0;
        run.ReferencesToEmbed = wanted;
        var pool = new List<(int Index, string Blob, string? Hash)>(wanted);
        var exhausted = false;
        while (pool.Count < wanted && !exhausted)
        {
            var batch = new List<int>();
            while (batch.Count < wanted - pool.Count && !(exhausted = !candidates.MoveNext()))
            {
                batch.Add(candidates.Current);
            }
            var blobs = new string?[batch.Count];
            var hashes = new string?[batch.Count];
            await run.ForEachBoundedAsync(Enumerable.Range(0, batch.Count), async b =>
            {
                var image = await chunks.ImageAsync(batch[b], cancellationToken).ConfigureAwait(true);
                var outcome = await EmbedAsync(run, image, ImageGrainKey.For(run.JobId, batch[b]), isNormal: false, cancellationToken).ConfigureAwait(true);
                blobs[b] = outcome.FeatureBlob;
                hashes[b] = outcome.ContentSha256;
                run.ReferencesEmbedded++;
            }, cancellationToken).ConfigureAwait(true);
            // In drawing order, whatever order the embeddings finished in: the pool must not depend on timing.
            pool.AddRange(batch.Select((index, b) => (Index: index, Blob: blobs[b], Hash: hashes[b])).Where(member => member.Blob is not null)
                .Select(member => (member.Index, member.Blob!, member.Hash)));
        }
        // A short pool (every candidate tried) means almost every image is bad: the shards still process them all, so that
        // each failure is listed with its reason, and the result stage says how many could be used.
        state.ReferenceImages = [.. pool.Select(member => member.Index)];
        state.ReferenceFeatures = [.. pool.Select(member => member.Blob)];
        state.ReferenceContentHashes = [.. pool.Select(member => member.Hash)];
        state.ReferencesPerImage = wanted - 1;
    }

    private static async Task<EmbeddedImage> EmbedAsync(JobRunContext run, JobImage image, string grainKey, bool isNormal, CancellationToken cancellationToken)
    {
        var specification = run.Specification;
        var request = new EmbedImageRequest(image.Id, image.BlobName, specification.BackboneDescriptionJson, specification.Options, isNormal);
        try
        {
            var grain = run.Grains.GetGrain<IImageGrain>(grainKey);
            return await BoundedFanOut.WithRetriesAsync(() => run.ImageCalls.WatchAsync(grain.Embed(request), image.Id, cancellationToken), cancellationToken).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException && !BoundedFanOut.IsTransient(e))
        {
            // One image's unexpected failure costs that image; a transient fault that outlasted the retries stops the
            // stage instead (the job resumes it), since it is not the image's fault.
            var message = JobIncidents.Record(run.Logger, $"job {run.JobId}, image {image.Id}", e, "the image could not be embedded");
            return new EmbeddedImage(null, false, 0, 0, new ImageFailure(image.Id, image.BlobName, JobIncidents.InternalReason, message, isNormal));
        }
    }

    /// <summary>The manifest chunks this stage reads, each read once: a few (R+1 or the normal limit) of any size of job.</summary>
    private sealed class ManifestChunks(JobRunContext run, bool normal)
    {
        private readonly Dictionary<int, Task<JobImage[]>> _chunks = [];

        public async Task<JobImage> ImageAsync(int index, CancellationToken cancellationToken)
        {
            var manifest = run.Manifest;
            var chunk = index / manifest.ChunkSize;
            if (!_chunks.TryGetValue(chunk, out var read))
            {
                read = normal
                    ? JobManifestStore.ReadNormalChunkAsync(run.Store, manifest, chunk, cancellationToken)
                    : JobManifestStore.ReadImageChunkAsync(run.Store, manifest, chunk, cancellationToken);
                _chunks[chunk] = read;
            }
            return (await read.ConfigureAwait(true))[index % manifest.ChunkSize];
        }
    }
}
