namespace AnomalyClustering.Core.Embeddings;

/// <summary>
/// The bins of 1-D adaptive average pooling (torch adaptive_avg_pool1d): output i averages the inputs
/// [floor(i*L/P), ceil((i+1)*L/P)). Neighbouring bins may share one input; when P &gt; L inputs repeat.
/// </summary>
internal static class AdaptivePooling
{
    /// <summary>The half-open input range [Start, End) averaged by output <paramref name="index"/>. O(1).</summary>
    public static (int Start, int End) Bin(int index, int inputLength, int outputLength)
    {
        var start = (int)((long)index * inputLength / outputLength);
        var end = (int)(((long)(index + 1) * inputLength + outputLength - 1) / outputLength);
        return (start, end);
    }
}
