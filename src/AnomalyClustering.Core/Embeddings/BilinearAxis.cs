namespace AnomalyClustering.Core.Embeddings;

/// <summary>
/// The source indices and weights of one axis of a bilinear resize with align_corners = false, exactly as
/// PyTorch 1.13's CPU kernel computes them in float: scale = in/out, source = scale*(o+0.5)-0.5 clamped
/// at 0, index1 = index0+1 except at the last input, lambda1 = source-index0 clamped to [0, 1]; equal sizes copy.
/// Shared by the feature-map resize and the report's alpha heat maps.
/// </summary>
public sealed class BilinearAxis
{
    private BilinearAxis(int[] index0, int[] index1, float[] lambda0, float[] lambda1)
    {
        Index0 = index0;
        Index1 = index1;
        Lambda0 = lambda0;
        Lambda1 = lambda1;
    }

    /// <summary>First source index of every output index.</summary>
    public int[] Index0 { get; }

    /// <summary>Second source index (equal to the first at the last input).</summary>
    public int[] Index1 { get; }

    /// <summary>Weight of <see cref="Index0"/>.</summary>
    public float[] Lambda0 { get; }

    /// <summary>Weight of <see cref="Index1"/>.</summary>
    public float[] Lambda1 { get; }

    /// <summary>Number of output positions.</summary>
    public int OutputSize => Index0.Length;

    /// <summary>The table for resizing <paramref name="inputSize"/> positions to <paramref name="outputSize"/>. O(outputSize).</summary>
    public static BilinearAxis Create(int inputSize, int outputSize)
    {
        var index0 = new int[outputSize];
        var index1 = new int[outputSize];
        var lambda0 = new float[outputSize];
        var lambda1 = new float[outputSize];
        var scale = (float)inputSize / outputSize;
        for (var o = 0; o < outputSize; o++)
        {
            if (inputSize == outputSize)
            {
                index0[o] = index1[o] = o;
                lambda0[o] = 1f;
                continue;
            }
            var source = MathF.Max(scale * (o + 0.5f) - 0.5f, 0f);
            var i0 = (int)source;
            index0[o] = i0;
            index1[o] = i0 < inputSize - 1 ? i0 + 1 : i0;
            var l1 = Math.Clamp(source - i0, 0f, 1f);
            lambda1[o] = l1;
            lambda0[o] = 1f - l1;
        }
        return new BilinearAxis(index0, index1, lambda0, lambda1);
    }
}
