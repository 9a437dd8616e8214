namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator whose output is fixed by its
/// definition, so a seed gives the same sequence on every machine and .NET version (System.Random does not promise that).
/// </summary>
internal struct SplitMix64
{
    private ulong state;

    /// <summary>Starts the sequence at <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed)
    {
        state = seed;
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        state += 0x9E3779B97F4A7C15UL;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Uniform integer in [0, bound) without bias: Lemire's multiply-shift, rejecting the low product
    /// values below 2^64 mod bound (Lemire 2019, "Fast random integer generation in an interval").
    /// </summary>
    public ulong NextBelow(ulong bound)
    {
        var high = Math.BigMul(Next(), bound, out var low);
        if (low < bound)
        {
            var threshold = (0UL - bound) % bound;
            while (low < threshold)
            {
                high = Math.BigMul(Next(), bound, out low);
            }
        }
        return high;
    }
}
