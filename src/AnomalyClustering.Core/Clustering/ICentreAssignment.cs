namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// The assignment step of the micro-clusters' k-means (<see cref="TwoStageWard"/>): every point's nearest centre. The
/// SIMD kernel (<see cref="SimdCentreAssignment"/>) runs on the CPU; a GPU worker may run the same step as an ONNX graph
/// (MatMul + Add + ArgMin, AnomalyClustering.Embedding's OnnxCentreAssignment).
/// </summary>
public interface ICentreAssignment
{
    /// <summary>Where the step runs, in words, for the result's reason ("SIMD kernel, 2 threads").</summary>
    string Description { get; }

    /// <summary>
    /// Writes assignment[i] = the c minimising ||c||^2 - 2 x_i.c (the squared distance less ||x_i||^2, the same for every
    /// centre) in float arithmetic, ties to the lower centre. An implementation may sum in its own order, so near ties can
    /// go either way; every choice is the nearest centre to float rounding.
    /// </summary>
    /// <param name="points">N x D floats, row-major.</param>
    /// <param name="count">N.</param>
    /// <param name="dimension">D.</param>
    /// <param name="centres">C x D floats, row-major.</param>
    /// <param name="centreCount">C (at least 1).</param>
    /// <param name="assignment">N indices, written.</param>
    void Assign(ReadOnlySpan<float> points, int count, int dimension, ReadOnlySpan<float> centres, int centreCount, Span<int> assignment);
}
