using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// Patch weights alpha (METHOD section 2): alpha_k = exp(s_k / tau) / sum_k' exp(s_k' / tau), or uniform
/// 1/M for the <c>average</c> baseline. The weights of one image sum to 1.
/// </summary>
public static class PatchWeights
{
    /// <summary>
    /// Softmax of the scores at temperature <paramref name="temperature"/> (tau), computed stably in double
    /// as exp((s_k - max s) / tau) / sum. tau = 0 is the limit: a one-hot weight on the highest score, the
    /// lowest index among equal highest scores. tau = +infinity gives uniform weights. O(M).
    /// Throws for tau &lt; 0 or NaN, no scores, non-finite scores or a length mismatch.
    /// </summary>
    public static void Softmax(ReadOnlySpan<double> scores, double temperature, Span<float> weights)
    {
        if (double.IsNaN(temperature) || temperature < 0)
        {
            throw new InvalidClusteringInputException(
                $"The softmax temperature tau is {temperature}; it must be 0 (one-hot on the top patch) or positive (the reference uses 1 or 2).",
                nameof(temperature));
        }
        if (scores.IsEmpty)
        {
            throw new InvalidClusteringInputException("Patch weights need at least one patch score.", nameof(scores));
        }
        Guard.Finite(scores, "patch scores");
        Guard.Length(weights.Length, scores.Length, "patch weights");
        var top = 0;
        for (var k = 1; k < scores.Length; k++)
        {
            if (scores[k] > scores[top])
            {
                top = k;
            }
        }
        if (temperature == 0)
        {
            weights.Clear();
            weights[top] = 1f;
            return;
        }
        var max = scores[top];
        var sum = 0.0;
        for (var k = 0; k < scores.Length; k++)
        {
            sum += Math.Exp((scores[k] - max) / temperature);
        }
        // The top term is exp(0) = 1, so sum >= 1: no underflow to 0 and no division by zero.
        for (var k = 0; k < scores.Length; k++)
        {
            weights[k] = (float)(Math.Exp((scores[k] - max) / temperature) / sum);
        }
    }

    /// <summary>Softmax of the scores at temperature tau, as a new array. See <see cref="Softmax(ReadOnlySpan{double}, double, Span{float})"/>. O(M).</summary>
    public static float[] Softmax(ReadOnlySpan<double> scores, double temperature)
    {
        var weights = new float[scores.Length];
        Softmax(scores, temperature, weights);
        return weights;
    }

    /// <summary>The <c>average</c> baseline: every weight 1/M. O(M). Throws for no patches.</summary>
    public static void Uniform(Span<float> weights)
    {
        if (weights.IsEmpty)
        {
            throw new InvalidClusteringInputException("Patch weights need at least one patch.", nameof(weights));
        }
        weights.Fill((float)(1.0 / weights.Length));
    }

    /// <summary>Uniform weights 1/M for <paramref name="patchCount"/> patches, as a new array. O(M).</summary>
    public static float[] Uniform(int patchCount)
    {
        Guard.AtLeast(patchCount, 1, nameof(patchCount));
        var weights = new float[patchCount];
        Uniform(weights);
        return weights;
    }
}
