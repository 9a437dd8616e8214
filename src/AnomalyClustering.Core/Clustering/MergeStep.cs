namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// One row of SciPy's linkage matrix Z: clusters <see cref="Left"/> and <see cref="Right"/>
/// (ids below N are points, id N + r is the cluster made by row r) joined at <see cref="Height"/>
/// into a cluster of <see cref="Size"/> points. <see cref="Left"/> is always the smaller id.
/// </summary>
/// <param name="Left">The smaller of the two joined ids (Z[r, 0]).</param>
/// <param name="Right">The larger of the two joined ids (Z[r, 1]).</param>
/// <param name="Height">The linkage distance between the two clusters (Z[r, 2]).</param>
/// <param name="Size">Number of points in the new cluster (Z[r, 3]).</param>
public readonly record struct MergeStep(int Left, int Right, double Height, int Size);
