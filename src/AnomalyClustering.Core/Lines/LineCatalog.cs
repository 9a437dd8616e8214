using System.Globalization;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Lines;

/// <summary>
/// One version of a production line's catalog: what a new image is compared with to decide which known defect type it
/// is, or that it is new. Made from a completed job (its embeddings and the cut of its merge tree); immutable, so an
/// assignment can always name the catalog version it was made with.
/// </summary>
/// <param name="Line">The line's name (one product on one production line).</param>
/// <param name="Version">The catalog version, 1 for the first; a new version is a new catalog, never an edit of an old one.</param>
/// <param name="Source">Where the catalog came from: the backbone and options, the normal bank or reference set.</param>
/// <param name="DetectionThreshold">The image anomaly score above which an image counts as defective; null when the job had none.</param>
/// <param name="Rule">The assignment rule's settings (margin, acceptance factor).</param>
/// <param name="EmbeddingDimension">D, the dimension of every centroid and of the embeddings assigned against it.</param>
/// <param name="Clusters">The named clusters (defect types), in the order of the cut they came from.</param>
public sealed record LineCatalog(
    string Line,
    int Version,
    CatalogSource Source,
    double? DetectionThreshold,
    AssignmentRuleSettings Rule,
    int EmbeddingDimension,
    IReadOnlyList<CatalogCluster> Clusters)
{
    /// <summary>
    /// How the source job processed its images, so that a server can process a new image the same way before assigning
    /// it; null for a catalog made from a result file (offline assignment of embeddings only).
    /// </summary>
    public CatalogScoring? Scoring { get; init; }

    /// <summary>
    /// The pooled spread: the root-mean-square distance of all members to their own cluster's centroid over the clusters
    /// of two or more members, sqrt(sum_c n_c s_c^2 / sum_c n_c); 0 when every cluster is a singleton. A singleton's own
    /// spread is 0 and says nothing about how far its type reaches, so its acceptance radius uses this instead. O(K).
    /// </summary>
    public double PooledSpread
    {
        get
        {
            double squares = 0;
            long members = 0;
            foreach (var cluster in Clusters)
            {
                if (cluster.Size >= 2)
                {
                    squares += cluster.Size * cluster.Spread * cluster.Spread;
                    members += cluster.Size;
                }
            }
            return members == 0 ? 0 : Math.Sqrt(squares / members);
        }
    }

    /// <summary>
    /// The acceptance radius of cluster <paramref name="index"/>: <see cref="AssignmentRuleSettings.AcceptanceFactor"/> times
    /// its own spread, or times <see cref="PooledSpread"/> for a singleton (or a cluster whose members all coincide).
    /// </summary>
    public double AcceptanceRadius(int index)
    {
        var cluster = Clusters[index];
        var spread = cluster.Size >= 2 && cluster.Spread > 0 ? cluster.Spread : PooledSpread;
        return Rule.AcceptanceFactor * spread;
    }
}

/// <summary>Where a catalog came from, so that new images are embedded exactly as its clusters were.</summary>
/// <param name="Backbone">The backbone's name (as result.json records it).</param>
/// <param name="OptionsReference">Where the job's options are recorded: <c>job:ID</c> or the path of a result.json.</param>
/// <param name="ReferenceBank">The normal bank (semi-supervised) or reference set (unsupervised) new images are scored against, by reference (a blob prefix or folder); null when the source had none (average weighting).</param>
/// <param name="Mode">The patch-weighting mode of the job (<c>unsupervised</c>, <c>semi-supervised</c>, <c>average</c>).</param>
public sealed record CatalogSource(string Backbone, string OptionsReference, string? ReferenceBank, string Mode);

/// <summary>
/// The source job's processing of an image, as a server repeats it for a new one: the job, its options and backbone (JSON
/// documents of the job API, kept as they are), and what its images were weighed against (feature-cache blobs).
/// </summary>
/// <param name="JobId">The source job.</param>
/// <param name="OptionsJson">The job's options (a JSON object).</param>
/// <param name="BackboneJson">The job's backbone description (a JSON object).</param>
/// <param name="ReferenceImages">Unsupervised: the reference pool's image indices, in drawing order.</param>
/// <param name="ReferenceFeatureBlobs">The patch bags of <paramref name="ReferenceImages"/>.</param>
/// <param name="ReferencesPerImage">R: references each image is compared with.</param>
/// <param name="NormalFeatureBlobs">Semi-supervised: the normal bank's patch bags.</param>
public sealed record CatalogScoring(
    string JobId,
    string OptionsJson,
    string BackboneJson,
    IReadOnlyList<int> ReferenceImages,
    IReadOnlyList<string> ReferenceFeatureBlobs,
    int ReferencesPerImage,
    IReadOnlyList<string> NormalFeatureBlobs);

/// <summary>One named cluster (defect type) of a catalog: its centroid, its size and how far its members spread.</summary>
/// <param name="Name">The name people gave it ("crack"), or the cut's default name ("cluster 3").</param>
/// <param name="Size">n_c, the number of member images (at least 1).</param>
/// <param name="Centroid">mu_c, the mean of the members' embeddings (D values).</param>
/// <param name="Spread">s_c, the root-mean-square distance of the members to <paramref name="Centroid"/>: sqrt(W_c / n_c), W_c being the cluster's term of Ward's criterion.</param>
public sealed record CatalogCluster(string Name, int Size, float[] Centroid, double Spread);

/// <summary>The settings of <see cref="WardAssignmentRule"/>.</summary>
/// <param name="Margin">
/// The least relative lead of the nearest cluster over the second, (delta_2 - delta_1) / delta_2 in Ward-increase terms,
/// for a decision to count as clear; below it the image is still given the nearest cluster but marked ambiguous.
/// </param>
/// <param name="AcceptanceFactor">An image farther from its nearest cluster's centroid than this many times that cluster's spread is novel.</param>
public sealed record AssignmentRuleSettings(double Margin, double AcceptanceFactor)
{
    /// <summary>
    /// The defaults: margin 0.1 and acceptance factor 1.5 (not tuned; with them 3-7 % of the images of known classes are
    /// flagged novel on the three shared datasets, docs/RESULTS.md, "Production lines: the assignment rule offline").
    /// </summary>
    public static AssignmentRuleSettings Default { get; } = new(0.1, 1.5);

    /// <summary>
    /// Throws when a setting is outside its range. The message is one line naming the value and the range, so that the CLI
    /// and the catalog reader can show it as it is.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">A setting is out of range.</exception>
    public void Validate()
    {
        if (!(Margin >= 0 && Margin < 1))
        {
            throw new InvalidClusteringInputException(string.Create(CultureInfo.InvariantCulture,
                $"the margin is {Margin}; it must be a share in [0, 1) (the least relative lead of the nearest cluster)."), nameof(Margin));
        }
        if (!(AcceptanceFactor > 0) || double.IsInfinity(AcceptanceFactor))
        {
            throw new InvalidClusteringInputException(string.Create(CultureInfo.InvariantCulture,
                $"the acceptance factor is {AcceptanceFactor}; it must be a positive finite number."), nameof(AcceptanceFactor));
        }
    }
}
