using System.Text.Json;
using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Cli.Datasets;
using AnomalyClustering.Cli.Embedded;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Jobs;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// How an embedded silo processes a local line's new images (<c>line feed</c>) as the result's job processed its own,
/// recorded by <c>line create --from-result</c>: the options and backbone, and what a result file lacks, made again when
/// the line is created and stored with its catalog under <c>lines/_/{line}/bank/v{N}/</c>. Semi-supervised: the job's
/// seeded choice of normal images (<see cref="JobPlan.SelectNormalImages{T}"/>, from the result's normal folder),
/// embedded, their patch bags the normal bank. Unsupervised: the job's seeded reference pool, R+1 of its images in
/// <see cref="ReferenceSample.DrawingOrder"/> (a pool member that cannot be used is replaced by the next candidate, as
/// the job does; the pool is the job's exactly when none of its images failed), embedded likewise. Average: nothing to
/// weigh against. A backbone other than the built-in one is described again by <c>--model</c> / <c>--backbone</c>, and
/// must carry the result's backbone name. Cost: one backbone run per bank image (64 normal images or 17 references with
/// the defaults), and their bags in the store (784 x T floats each).
/// </summary>
internal static class LocalLineScoring
{
    /// <summary>
    /// The record for version <paramref name="version"/> of line <paramref name="line"/>, embedding its bank with
    /// <paramref name="start"/>'s silo when the mode needs one; or null and why not (the images or the backbone are not here).
    /// </summary>
    public static async Task<(CatalogScoring? Scoring, string? BankPrefix, string? Missing)> RecordAsync(
        string line, int version, ClusteringResult result, ResultSource source, BackboneDescription? given, Func<Task<EmbeddedCluster>> start,
        CancellationToken cancellationToken)
    {
        if (Describe(source, given) is not { } description)
        {
            return (null, null, $"its result used backbone '{source.Backbone ?? "none"}'; give its model with --model (or --backbone) to line create so that new images are embedded as the job's were");
        }
        var jobId = $"local-{line}-v{version}";
        var options = JobOptionsMapping.FromPipelineOptions(result.Options);
        var optionsJson = JsonSerializer.Serialize(options, LineImageDecider.LogJson);
        if (result.Options.Mode == ClusteringMode.Average)
        {
            return (new CatalogScoring(jobId, optionsJson, description.ToJson(), [], [], 0, []), null, null);
        }
        DiscoveredImageFolder found;
        try
        {
            found = ImageFolderDiscovery.Discover(source.Path, source.NormalFolder);
        }
        catch (CliInputException e)
        {
            return (null, null, $"the job's images are needed to make its {(result.Options.Mode == ClusteringMode.SemiSupervised ? "normal bank" : "reference images")} again, and '{source.Path}' cannot be read: {e.Message}");
        }
        var bank = LocalLineStore.PrefixOf(line) + "bank/v" + version.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/";
        await using var cluster = await start().ConfigureAwait(false);
        var embedder = new BankEmbedder(cluster, jobId, description.ToJson(), options, bank);
        if (result.Options.Mode == ClusteringMode.SemiSupervised)
        {
            var normals = JobPlan.SelectNormalImages(found.Dataset.NormalImages, result.Options);
            var blobs = await Task.WhenAll(normals.Select((image, k) => embedder.EmbedAsync(image.Path, k, isNormal: true, cancellationToken))).ConfigureAwait(false);
            var usable = blobs.Where(blob => blob is not null).Select(blob => blob!).ToList();
            return usable.Count == 0
                ? (null, null, $"none of the {normals.Count} normal images of '{found.NormalFolder}' could be embedded")
                : (new CatalogScoring(jobId, optionsJson, description.ToJson(), [], [], 0, usable), bank, null);
        }
        // Unsupervised: the job's images in its order (the result's), found again by id in the re-read folder.
        var paths = found.Dataset.Images.ToDictionary(image => image.Id, image => image.Path, StringComparer.Ordinal);
        var images = result.Images.Select(image => paths.GetValueOrDefault(image.Id)).ToList();
        var exact = !JobPlan.UsesReferenceSample(result.Options, images.Count);
        var wanted = exact ? images.Count : result.Options.ReferenceCount + 1;
        var candidates = exact ? Enumerable.Range(0, images.Count) : ReferenceSample.DrawingOrder(images.Count, unchecked((ulong)result.Options.Seed));
        var pool = new List<(int Index, string Blob)>(wanted);
        foreach (var batch in candidates.Where(index => images[index] is not null).Chunk(wanted))
        {
            var blobs = await Task.WhenAll(batch.Select(index => embedder.EmbedAsync(images[index]!, index, isNormal: false, cancellationToken))).ConfigureAwait(false);
            pool.AddRange(batch.Select((index, b) => (index, blobs[b])).Where(member => member.Item2 is not null).Take(wanted - pool.Count).Select(member => (member.index, member.Item2!)));
            if (pool.Count == wanted)
            {
                break;
            }
        }
        return pool.Count < 2
            ? (null, null, $"only {pool.Count} of the job's images in '{source.Path}' could be embedded as references; unsupervised scores need at least 2")
            : (new CatalogScoring(jobId, optionsJson, description.ToJson(), [.. pool.Select(member => member.Index)], [.. pool.Select(member => member.Blob)], wanted - 1, []), bank, null);
    }

    /// <summary>
    /// The backbone the job ran: <paramref name="given"/> (<c>--model</c> or <c>--backbone</c>) when its name is the result's,
    /// or without one the built-in backbone when the result names it; with the result's preprocessing (resize mode, input
    /// size) either way. Null when nothing given describes the result's backbone.
    /// </summary>
    /// <exception cref="CliInputException">A backbone was given whose name is not the result's.</exception>
    public static BackboneDescription? Describe(ResultSource source, BackboneDescription? given)
    {
        if (given is null)
        {
            return source.Backbone == BuiltInBackbone.Description.Name
                ? BuiltInBackbone.Description with { Preprocessing = source.Preprocessing ?? BuiltInBackbone.WholeImageDescription.Preprocessing }
                : null;
        }
        if (given.Name != source.Backbone)
        {
            throw new CliInputException($"the result was made with backbone '{source.Backbone ?? "none"}', not '{given.Name}'; give the job's own model, so that new images are embedded as its images were.");
        }
        return given with { Preprocessing = source.Preprocessing ?? given.Preprocessing };
    }

    /// <summary>Embeds bank images on the embedded silo and keeps their patch bags under the line, so that no cache clean-up takes them.</summary>
    private sealed class BankEmbedder(EmbeddedCluster cluster, string jobId, string backboneJson, AnomalyClustering.Abstractions.Jobs.JobOptions options, string bank)
    {
        public async Task<string?> EmbedAsync(string path, int index, bool isNormal, CancellationToken cancellationToken)
        {
            var kind = isNormal ? "normal" : "reference";
            var name = $"{kind}-{index.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
            var upload = bank + name + Path.GetExtension(path).ToLowerInvariant();
            await using (var file = File.OpenRead(path))
            {
                await cluster.Store.PutAsync(upload, file, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            try
            {
                var embedded = await cluster.Client.GetGrain<IImageGrain>($"{jobId}/{name}")
                    .Embed(new EmbedImageRequest(name, upload, backboneJson, options, isNormal)).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (embedded.FeatureBlob is null)
                {
                    return null;
                }
                var bag = bank + name + ".bag";
                await using (var cached = await cluster.Store.OpenReadAsync(embedded.FeatureBlob, cancellationToken).ConfigureAwait(false))
                {
                    await cluster.Store.PutAsync(bag, cached, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                return bag;
            }
            finally
            {
                await cluster.Store.DeleteAsync(upload, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
