using AnomalyClustering.Core.Lines;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

/// <summary>
/// Makes a line's catalog from a completed job's result: its clusters as cut, named as the job's names say ("cluster k"
/// otherwise), with their centroids, sizes and spreads (<see cref="LineCatalogBuilder.FromCut"/>). Shared by the CLI's
/// <c>line create</c> and the API's <c>POST /lines</c>. O(N D) time.
/// </summary>
public static class JobLineCatalog
{
    /// <summary>The images' embeddings as one row-major N x D array (row i: image i of the result).</summary>
    /// <exception cref="InvalidClusteringInputException">The result has no image, or an image without an embedding of its dimension.</exception>
    public static float[] Embeddings(ClusteringResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var dimension = result.EmbeddingDimension;
        if (result.Images.Count == 0)
        {
            throw new InvalidClusteringInputException("the result holds no clustered image.", "result");
        }
        if (dimension < 1 || result.Images.Any(image => image.Embedding is null || image.Embedding.Length != dimension))
        {
            throw new InvalidClusteringInputException("the result records no embedding for some images (written by an older version?); run the job again.", "result");
        }
        var values = new float[result.Images.Count * dimension];
        for (var i = 0; i < result.Images.Count; i++)
        {
            result.Images[i].Embedding.AsSpan().CopyTo(values.AsSpan(i * dimension, dimension));
        }
        return values;
    }

    /// <summary>The catalog of version <paramref name="version"/> of line <paramref name="line"/> made from <paramref name="result"/>.</summary>
    /// <param name="line">The line's name.</param>
    /// <param name="version">The catalog's version.</param>
    /// <param name="result">The job's result.</param>
    /// <param name="source">Where the job's images came from (its backbone and normal folder are recorded).</param>
    /// <param name="optionsReference">Where the job's options are recorded: <c>job:ID</c> or the path of a result.json.</param>
    /// <param name="settings">The assignment rule's settings.</param>
    /// <exception cref="InvalidClusteringInputException">The result has no embeddings, or a cluster is empty.</exception>
    public static LineCatalog Create(string line, int version, ClusteringResult result, ResultSource source, string optionsReference, AssignmentRuleSettings settings)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(source);
        var embeddings = Embeddings(result);
        var cut = result.Images.Select(image => image.Cluster).ToArray();
        var names = Enumerable.Range(0, result.ClusterCount).Select(k => result.Names.NameOf(k) ?? $"cluster {k}").ToList();
        var clusters = LineCatalogBuilder.FromCut(embeddings, result.Images.Count, result.EmbeddingDimension, cut, names);
        var mode = ClusteringOptionNames.Of(result.Options.Mode);
        return new LineCatalog(line, version,
            new CatalogSource(source.Backbone ?? source.Kind, optionsReference, result.Options.Mode == ClusteringMode.SemiSupervised ? source.NormalFolder : null, mode),
            result.AnomalyThreshold, settings, result.EmbeddingDimension, clusters);
    }
}
