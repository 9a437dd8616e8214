using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// The seeded reference set of the sampled unsupervised score (METHOD section 7): a pool of
/// min(R+1, N) images, and for each image the first R pool members other than itself.
/// </summary>
/// <remarks>
/// <para>
/// Drawing: the pool is the first min(R+1, N) entries of a partial Fisher-Yates shuffle of 0..N-1
/// (for t = 0, 1, ...: swap entry t with entry t + u, u uniform in [0, N-t)), driven by SplitMix64
/// seeded with <c>seed</c> and Lemire's unbiased bounded integers. The pool is therefore a uniformly
/// random ordered subset, identical on every machine and .NET version for a given seed.
/// </para>
/// <para>
/// Why R+1: image i uses the first R pool members other than i. For i outside the pool these are the
/// first R members; for i inside they are the other R. Either way they are a uniform random R-subset of
/// the images other than i, so the mean of its nearest-patch distances is an unbiased estimate of the
/// exact score, and with R = N-1 it is the exact score. Every worker loads only the pool.
/// </para>
/// <para>R = 0 or R at least N-1 means exact: every other image is a reference.</para>
/// </remarks>
public sealed class ReferenceSample
{
    private readonly int[] pool;

    private ReferenceSample(int imageCount, int referenceCount, int[] pool)
    {
        ImageCount = imageCount;
        ReferenceCount = referenceCount;
        this.pool = pool;
    }

    /// <summary>Number of images N of the job.</summary>
    public int ImageCount { get; }

    /// <summary>References per image R (N-1 when exact).</summary>
    public int ReferenceCount { get; }

    /// <summary>True when every image uses all the others (R = N-1): the sampled score equals the exact score.</summary>
    public bool IsExact => ReferenceCount == ImageCount - 1;

    /// <summary>The pool, min(R+1, N) distinct image indices in drawing order.</summary>
    public IReadOnlyList<int> Pool => pool;

    /// <summary>
    /// Draws the pool for <paramref name="imageCount"/> images and <paramref name="referenceCount"/> references
    /// per image (0: exact). O(N) time and memory. Throws for N &lt; 2 or R &lt; 0.
    /// </summary>
    public static ReferenceSample Draw(int imageCount, int referenceCount, ulong seed)
    {
        if (imageCount < 2)
        {
            throw new InvalidClusteringInputException(
                $"Unsupervised patch scores compare every image with other images, so they need at least 2 images; got {imageCount}.",
                nameof(imageCount));
        }
        if (referenceCount < 0)
        {
            throw new InvalidClusteringInputException(
                $"referenceCount is {referenceCount}; use 0 for exact scores or a positive number of reference images.",
                nameof(referenceCount));
        }
        var effective = referenceCount == 0 ? imageCount - 1 : Math.Min(referenceCount, imageCount - 1);
        var poolSize = effective + 1;
        var order = new int[imageCount];
        for (var i = 0; i < imageCount; i++)
        {
            order[i] = i;
        }
        var random = new SplitMix64(seed);
        for (var t = 0; t < poolSize && t < imageCount - 1; t++)
        {
            var swapWith = t + (int)random.NextBelow((ulong)(imageCount - t));
            (order[t], order[swapWith]) = (order[swapWith], order[t]);
        }
        return new ReferenceSample(imageCount, effective, order[..poolSize]);
    }

    /// <summary>
    /// Every image index in the drawing order of <see cref="Draw"/> for <paramref name="seed"/>: its first min(R+1, N)
    /// entries are the pool of any R, and the entries after them are the next seeded candidates, which replace pool members
    /// that cannot be used (an image that fails to decode) without changing the pool when none fails. Lazy; O(N) memory.
    /// </summary>
    public static IEnumerable<int> DrawingOrder(int imageCount, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(imageCount);
        var order = new int[imageCount];
        for (var i = 0; i < imageCount; i++)
        {
            order[i] = i;
        }
        var random = new SplitMix64(seed);
        for (var t = 0; t < imageCount; t++)
        {
            // The same swaps as Draw: the last entry has nothing left to swap with.
            if (t < imageCount - 1)
            {
                var swapWith = t + (int)random.NextBelow((ulong)(imageCount - t));
                (order[t], order[swapWith]) = (order[swapWith], order[t]);
            }
            yield return order[t];
        }
    }

    /// <summary>
    /// The references of <paramref name="image"/> among <paramref name="pool"/> (usable images in drawing order): the first
    /// <paramref name="referenceCount"/> members other than the image, as positions in the pool, sorted by image index (the
    /// order of <see cref="ReferencesFor"/>). Fewer when the pool has fewer others.
    /// </summary>
    public static int[] PoolReferencesFor(IReadOnlyList<int> pool, int referenceCount, int image)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var positions = new List<int>(Math.Min(referenceCount, pool.Count));
        for (var p = 0; p < pool.Count && positions.Count < referenceCount; p++)
        {
            if (pool[p] != image)
            {
                positions.Add(p);
            }
        }
        positions.Sort((a, b) => pool[a].CompareTo(pool[b]));
        return [.. positions];
    }

    /// <summary>
    /// The R reference images of <paramref name="image"/>: the first R pool members other than it, sorted
    /// ascending (the order in which their distances are summed, so that R = N-1 reproduces the exact sum). O(R log R).
    /// </summary>
    public int[] ReferencesFor(int image)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(image);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(image, ImageCount);
        var references = new int[ReferenceCount];
        var count = 0;
        foreach (var member in pool)
        {
            if (member != image && count < ReferenceCount)
            {
                references[count++] = member;
            }
        }
        Array.Sort(references);
        return references;
    }
}
