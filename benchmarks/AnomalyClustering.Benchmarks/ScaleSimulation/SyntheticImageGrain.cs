using AnomalyClustering.Abstractions.Images;
using AnomalyClustering.Abstractions.Placement;
using AnomalyClustering.Grains.Images;
using AnomalyClustering.Grains.Placement;
using AnomalyClustering.Storage;
using Orleans.Placement;

namespace AnomalyClustering.Benchmarks.ScaleSimulation;

/// <summary>
/// The scale simulation's stand-in for <c>ImageGrain</c> (benchmark only): placed like it (gpu-worker silos, by activation
/// count), it answers <see cref="IImageGrain.Process"/> with a synthetic x_i from <see cref="SyntheticMixture"/> instead of
/// decoding and embedding, still writes the outcome blob in <see cref="ImageOutcomeFormat"/> (x_i, a 4 x 4 uniform alpha
/// map, a score) and deactivates when done, so that the store, the messages and the activations are the product's.
/// </summary>
[RequiredSiloRole(SiloRoles.GpuWorker)]
[ActivationCountBasedPlacement]
internal sealed class SyntheticImageGrain(IBlobStore blobs) : Grain, IImageGrain
{
    /// <summary>Rows and columns of the synthetic patch grid (the alpha map's shape).</summary>
    public const int GridSide = 4;

    private static readonly float[] UniformAlpha = Enumerable.Repeat(1f / (GridSide * GridSide), GridSide * GridSide).ToArray();

    /// <inheritdoc />
    public Task<EmbeddedImage> Embed(EmbedImageRequest request) =>
        throw new NotSupportedException("the scale simulation runs average mode, which embeds no reference or normal image.");

    /// <inheritdoc />
    public Task<double> ScoreNormalLeaveOneOut(NormalScoreRequest request) =>
        throw new NotSupportedException("the scale simulation runs average mode, which has no normal images.");

    /// <inheritdoc />
    public async Task<ProcessedImage> Process(ProcessImageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var x = SyntheticMixture.Embedding(request.Image.Index, out var score);
        using (var outcome = new MemoryStream(ImageOutcomeFormat.ToBytes(x, UniformAlpha, score), writable: false))
        {
            await blobs.PutAsync(request.OutcomeBlob, outcome).ConfigureAwait(true);
        }
        // As ImageGrain does: the image is done for this job, so its activation goes now rather than at idle collection.
        DeactivateOnIdle();
        return new ProcessedImage(x, score, GridSide, GridSide, CacheHit: false, Failure: null);
    }
}

/// <summary>
/// A seeded Gaussian mixture of <see cref="Components"/> centres in <see cref="Dimension"/> dimensions: image i belongs to
/// component i mod K (its label <c>c{k}</c>) and its x_i is that centre plus unit Gaussian noise drawn from a generator
/// seeded by i, so every silo computes the same x_i for the same image. Centres are N(0, 1) per coordinate: about 22.6
/// apart against a within-component spread of about 22.6 between two points, which Ward separates cleanly in 256 dimensions.
/// </summary>
internal static class SyntheticMixture
{
    /// <summary>K, the mixture's components.</summary>
    public const int Components = 8;

    /// <summary>D, floats per x_i.</summary>
    public const int Dimension = 256;

    private const int Seed = 20_011;

    private static readonly float[][] Centres = Enumerable.Range(0, Components).Select(k => Gaussian(new Random(Seed + k), Dimension)).ToArray();

    /// <summary>The component (and label index) of image <paramref name="index"/>.</summary>
    public static int ComponentOf(int index) => index % Components;

    /// <summary>The label of image <paramref name="index"/> in the manifest.</summary>
    public static string LabelOf(int index) => $"c{ComponentOf(index)}";

    /// <summary>x_i of image <paramref name="index"/>; <paramref name="score"/> is its distance from its centre (its "anomaly score").</summary>
    public static float[] Embedding(int index, out double score)
    {
        var x = Gaussian(new Random(unchecked((Seed * 1_000_003) + index)), Dimension);
        var squared = 0.0;
        for (var d = 0; d < x.Length; d++)
        {
            squared += (double)x[d] * x[d];
        }
        score = Math.Sqrt(squared);
        var centre = Centres[ComponentOf(index)];
        for (var d = 0; d < x.Length; d++)
        {
            x[d] += centre[d];
        }
        return x;
    }

    private static float[] Gaussian(Random random, int count)
    {
        var values = new float[count];
        for (var d = 0; d < count; d += 2)
        {
            // Box-Muller: two standard normal draws per pair of uniform ones.
            var radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            var angle = 2 * Math.PI * random.NextDouble();
            values[d] = (float)(radius * Math.Cos(angle));
            if (d + 1 < count)
            {
                values[d + 1] = (float)(radius * Math.Sin(angle));
            }
        }
        return values;
    }
}
