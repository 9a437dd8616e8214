namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// The 1-D resampling weights of PIL's BILINEAR resize along one axis, bit for bit: a triangle filter
/// whose support widens by the reduction factor when downscaling (antialiasing), weights normalised to
/// sum 1 in double precision, then rounded to 22-bit fixed point (PIL's Resample.c, precompute_coeffs
/// and normalize_coeffs_8bpc). Only the output positions a crop keeps are computed.
/// Cost: O(outputs x taps); taps = 2 * ceil(max(1, in/out)) + 1 at most.
/// </summary>
internal static class PilBilinearAxis
{
    /// <summary>Fixed-point fraction bits of the weights (PIL's PRECISION_BITS = 32 - 8 - 2).</summary>
    public const int PrecisionBits = 22;

    /// <summary>Added before the final shift so that it rounds half up.</summary>
    public const int RoundingBias = 1 << (PrecisionBits - 1);

    /// <summary>The number of weight slots per output position (PIL's ksize).</summary>
    public static int KernelSize(int inSize, int outSize) =>
        (int)Math.Ceiling(Math.Max((double)inSize / outSize, 1.0)) * 2 + 1;

    /// <summary>
    /// Fills, for outputs <paramref name="first"/> .. first + count - 1 of an inSize -> outSize resize,
    /// the first input index, the tap count and <paramref name="kernelSize"/> fixed-point weights each.
    /// </summary>
    public static void Compute(int inSize, int outSize, int first, int count, int kernelSize,
        Span<int> starts, Span<int> tapCounts, Span<int> weights)
    {
        // PIL: scale = (in1 - in0) / outSize with float box coordinates; exact for sizes below 2^24.
        var scale = (double)inSize / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = 1.0 * filterScale;
        var inverseFilterScale = 1.0 / filterScale;
        double[]? rented = null;
        Span<double> k = kernelSize <= 256
            ? stackalloc double[kernelSize]
            : (rented = System.Buffers.ArrayPool<double>.Shared.Rent(kernelSize)).AsSpan(0, kernelSize);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var xx = first + i;
                var center = (xx + 0.5) * scale;
                var xmin = (int)(center - support + 0.5);
                if (xmin < 0)
                {
                    xmin = 0;
                }
                var xmax = (int)(center + support + 0.5);
                if (xmax > inSize)
                {
                    xmax = inSize;
                }
                xmax -= xmin;
                var sum = 0.0;
                for (var x = 0; x < xmax; x++)
                {
                    var w = Triangle((x + xmin - center + 0.5) * inverseFilterScale);
                    k[x] = w;
                    sum += w;
                }
                var row = weights.Slice(i * kernelSize, kernelSize);
                for (var x = 0; x < xmax; x++)
                {
                    var w = sum != 0.0 ? k[x] / sum : k[x];
                    row[x] = w < 0
                        ? (int)(-0.5 + w * (1 << PrecisionBits))
                        : (int)(0.5 + w * (1 << PrecisionBits));
                }
                row[xmax..].Clear();
                starts[i] = xmin;
                tapCounts[i] = xmax;
            }
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<double>.Shared.Return(rented);
            }
        }
    }

    private static double Triangle(double x)
    {
        if (x < 0.0)
        {
            x = -x;
        }
        return x < 1.0 ? 1.0 - x : 0.0;
    }
}
