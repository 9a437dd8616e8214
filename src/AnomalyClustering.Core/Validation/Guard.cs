namespace AnomalyClustering.Core.Validation;

/// <summary>Argument checks shared by the Core algorithms; each throws <see cref="InvalidClusteringInputException"/>.</summary>
public static class Guard
{
    /// <summary>Throws unless every value is finite (no NaN, no infinity).</summary>
    public static void Finite(ReadOnlySpan<float> values, string what)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new InvalidClusteringInputException($"{what} contains {values[i]} at index {i}; all values must be finite.", what);
            }
        }
    }

    /// <summary>Throws unless every value is finite (no NaN, no infinity).</summary>
    public static void Finite(ReadOnlySpan<double> values, string what)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new InvalidClusteringInputException($"{what} contains {values[i]} at index {i}; all values must be finite.", what);
            }
        }
    }

    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>.</summary>
    public static void Length(int actual, int expected, string what)
    {
        if (actual != expected)
        {
            throw new InvalidClusteringInputException($"{what} has length {actual}, expected {expected}.", what);
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is at least <paramref name="minimum"/>.</summary>
    public static void AtLeast(int value, int minimum, string what)
    {
        if (value < minimum)
        {
            throw new InvalidClusteringInputException($"{what} is {value}; it must be at least {minimum}.", what);
        }
    }
}
