namespace AnomalyClustering.Core.Clustering;

/// <summary>The shape checks every <see cref="ICentreAssignment"/> makes.</summary>
public static class CentreAssignmentArguments
{
    /// <summary>Throws unless the spans hold N x D points, C x D centres and N assignments.</summary>
    /// <exception cref="ArgumentException">A count below its minimum or a span of the wrong length.</exception>
    public static void Check(ReadOnlySpan<float> points, int count, int dimension, ReadOnlySpan<float> centres, int centreCount, Span<int> assignment)
    {
        if (count < 0 || dimension < 1 || centreCount < 1)
        {
            throw new ArgumentException($"An assignment needs N >= 0 points, D >= 1 and at least one centre; got N = {count}, D = {dimension}, C = {centreCount}.");
        }
        if (points.Length != (long)count * dimension || centres.Length != (long)centreCount * dimension || assignment.Length != count)
        {
            throw new ArgumentException(
                $"Expected {count} x {dimension} points, {centreCount} x {dimension} centres and {count} assignments; got {points.Length}, {centres.Length} and {assignment.Length} values.");
        }
    }
}
