using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Core.Tests.Embeddings;

/// <summary>
/// The torch pipeline transcribed step by step in double precision, in the reference order: LayerNorm,
/// unfold (materialised), per-channel bilinear resize, pooling to P, stacking, pooling to T. Slow on purpose.
/// </summary>
internal static class ReferencePatchEmbedder
{
    public static double[] Embed(FeatureMap[] layers, PatchEmbeddingOptions options)
    {
        var k = options.NeighbourhoodSize;
        var pad = (k - 1) / 2;
        var (gridH, gridW) = (layers[0].Height, layers[0].Width);
        var m = gridH * gridW;
        var p = options.PretrainDimension;
        var stacked = new double[m, layers.Length * p];
        for (var l = 0; l < layers.Length; l++)
        {
            var (c, h, w) = (layers[l].Channels, layers[l].Height, layers[l].Width);
            var x = layers[l].Data.ToArray().Select(v => (double)v).ToArray();
            if (options.LayerNorm)
            {
                var mean = x.Average();
                var variance = x.Select(v => (v - mean) * (v - mean)).Average();
                x = x.Select(v => (v - mean) / Math.Sqrt(variance + 1e-5)).ToArray();
            }
            var unfolded = new double[c * k * k, h, w];
            for (var ch = 0; ch < c; ch++)
            for (var ky = 0; ky < k; ky++)
            for (var kx = 0; kx < k; kx++)
            for (var y = 0; y < h; y++)
            for (var xx = 0; xx < w; xx++)
            {
                var (sy, sx) = (y + ky - pad, xx + kx - pad);
                unfolded[ch * k * k + ky * k + kx, y, xx] = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0 : x[(ch * h + sy) * w + sx];
            }
            var channels = c * k * k;
            var resized = l == 0 ? unfolded : new double[channels, gridH, gridW];
            if (l > 0)
            {
                var (rows, cols) = (Axis(h, gridH), Axis(w, gridW));
                for (var ch = 0; ch < channels; ch++)
                for (var y = 0; y < gridH; y++)
                for (var xx = 0; xx < gridW; xx++)
                {
                    var (y0, y1, ly) = rows[y];
                    var (x0, x1, lx) = cols[xx];
                    resized[ch, y, xx] =
                        (1 - ly) * ((1 - lx) * unfolded[ch, y0, x0] + lx * unfolded[ch, y0, x1]) +
                        ly * ((1 - lx) * unfolded[ch, y1, x0] + lx * unfolded[ch, y1, x1]);
                }
            }
            for (var patch = 0; patch < m; patch++)
            {
                var vector = new double[channels];
                for (var ch = 0; ch < channels; ch++)
                {
                    vector[ch] = resized[ch, patch / gridW, patch % gridW];
                }
                var pooled = Pool(vector, p);
                for (var i = 0; i < p; i++)
                {
                    stacked[patch, l * p + i] = pooled[i];
                }
            }
        }
        var t = options.TargetDimension;
        var result = new double[m * t];
        for (var patch = 0; patch < m; patch++)
        {
            var row = new double[layers.Length * p];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = stacked[patch, i];
            }
            Pool(row, t).CopyTo(result, patch * t);
        }
        return result;
    }

    private static double[] Pool(double[] input, int size)
    {
        var output = new double[size];
        for (var i = 0; i < size; i++)
        {
            var start = (int)Math.Floor((double)i * input.Length / size);
            var end = (int)Math.Ceiling((double)(i + 1) * input.Length / size);
            output[i] = input[start..end].Average();
        }
        return output;
    }

    private static (int I0, int I1, double Lambda)[] Axis(int input, int output)
    {
        var scale = (double)input / output;
        return Enumerable.Range(0, output).Select(o =>
        {
            var source = Math.Max(scale * (o + 0.5) - 0.5, 0);
            var i0 = (int)source;
            return (i0, Math.Min(i0 + 1, input - 1), source - i0);
        }).ToArray();
    }
}
