namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// How the distance between two clusters is defined; names and update formulas are SciPy's
/// (<c>scipy.cluster.hierarchy.linkage(y, method)</c>).
/// </summary>
public enum LinkageMethod
{
    /// <summary>Ward's minimum-variance criterion (Euclidean distances only); the paper's choice.</summary>
    Ward,

    /// <summary>UPGMA: the mean of all pairwise distances between the two clusters.</summary>
    Average,

    /// <summary>The largest pairwise distance between the two clusters.</summary>
    Complete,

    /// <summary>The smallest pairwise distance between the two clusters.</summary>
    Single,
}
