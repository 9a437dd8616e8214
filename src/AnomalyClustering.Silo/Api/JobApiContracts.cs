using System.Text.Json;
using System.Text.Json.Serialization;
using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Silo.Api;

/// <summary>The body of <c>POST /jobs</c>: a job over a dataset that is already in the blob store.</summary>
public sealed record SubmitJobRequest
{
    /// <summary>
    /// The job id (1-64 letters, digits, '.', '_' or '-'); submitting an id that exists returns that job unchanged, so a
    /// client can retry safely. Default: a new id.
    /// </summary>
    public string? JobId { get; init; }

    /// <summary>
    /// The blob prefix of the dataset (e.g. <c>datasets/bottle/</c>), laid out like a dataset folder: MVTec
    /// (<c>test/&lt;class&gt;/</c>, <c>train/good/</c>), one folder per class, or flat. Image ids are paths below it.
    /// </summary>
    public required string Prefix { get; init; }

    /// <summary>A blob prefix of normal (defect-free) images for semi-supervised mode. Default: <c>train/good/</c> below the prefix in MVTec layout.</summary>
    public string? NormalPrefix { get; init; }

    /// <summary>The clustering options; omitted fields take their defaults.</summary>
    public JobOptions? Options { get; init; }

    /// <summary>A backbone of the server's catalog (<c>AnomalyClustering:Backbones:Catalog:&lt;name&gt;</c>), or <c>builtin</c> (default).</summary>
    public string? Backbone { get; init; }
}

/// <summary>The multipart form of <c>POST /jobs/upload</c> (documentation of the parts; the server streams them).</summary>
public sealed record JobUploadForm
{
    /// <summary>Optional job id; must come before the files.</summary>
    public string? JobId { get; init; }

    /// <summary>The clustering options as JSON (the <see cref="JobOptions"/> fields).</summary>
    public string? Options { get; init; }

    /// <summary>A backbone of the server's catalog, or <c>builtin</c> (default).</summary>
    public string? Backbone { get; init; }

    /// <summary>
    /// The images: every file part not named <c>normal</c>; its file name is its path in the dataset, with '/' between folders
    /// (e.g. <c>crack/001.png</c> or <c>test/crack/001.png</c>), which decides the layout and labels like a folder would.
    /// </summary>
    public required IFormFileCollection Images { get; init; }

    /// <summary>Normal (defect-free) images for semi-supervised mode (file parts named <c>normal</c>).</summary>
    public IFormFileCollection? Normal { get; init; }
}

/// <summary>The clusters of a completed job (<c>GET /jobs/{id}/clusters</c>).</summary>
/// <param name="JobId">The job.</param>
/// <param name="ImageCount">Images clustered (failed images left out).</param>
/// <param name="ClusterCount">Number of clusters.</param>
/// <param name="Classes">The ground-truth classes, ordinal order; empty without labels.</param>
/// <param name="Metrics">NMI, ARI and F1 against the labels; null without labels.</param>
/// <param name="Clusters">Every cluster by index.</param>
/// <param name="FailedImages">Images that could not be used.</param>
public sealed record JobClusters(
    string JobId,
    int ImageCount,
    int ClusterCount,
    IReadOnlyList<string> Classes,
    ClusterMetrics? Metrics,
    IReadOnlyList<JobCluster> Clusters,
    int FailedImages);

/// <summary>
/// One cluster: its index, size, the image nearest to its centroid and label counts. Its members are paged by
/// <c>GET /jobs/{jobId}/clusters/{cluster}/images</c> (a list of every member would grow with N).
/// </summary>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Size">Number of images.</param>
/// <param name="CentreImage">The member nearest to the cluster's centroid (its most typical image); null without embeddings.</param>
/// <param name="Labels">Label to count; empty without labels.</param>
/// <param name="Name">The name people gave the cluster (PUT /jobs/{jobId}/clusters/{cluster}/name), or null.</param>
public sealed record JobCluster(int Cluster, int Size, string? CentreImage, IReadOnlyDictionary<string, int> Labels, string? Name = null);

/// <summary>The body of <c>PUT /jobs/{jobId}/clusters/{cluster}/name</c>.</summary>
/// <param name="Name">
/// The cluster's name (e.g. "crack"); null or blank removes it. Required: a body without it (<c>{}</c>, a misspelt member)
/// is refused, not read as a removal.
/// </param>
public sealed record ClusterNameRequest([property: System.Text.Json.Serialization.JsonRequired] string? Name);

/// <summary>Every name of a job's clusters after a rename.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Names">Cluster index to name.</param>
public sealed record JobClusterNames(string JobId, IReadOnlyDictionary<int, string> Names);

/// <summary>External clustering scores against the ground-truth labels.</summary>
/// <param name="Nmi">Normalized mutual information.</param>
/// <param name="Ari">Adjusted Rand index.</param>
/// <param name="F1">F1 after the Hungarian matching of clusters to classes.</param>
public sealed record ClusterMetrics(double Nmi, double Ari, double F1);

/// <summary>The JSON conventions of the API: camelCase names, enums as camelCase strings (e.g. <c>"completed"</c>).</summary>
public static class JobApiJson
{
    /// <summary>Applies the conventions to <paramref name="options"/> (the HTTP JSON options of the host).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.Converters.Add(new AutomaticClustersJsonConverter());
        return options;
    }

    /// <summary>How request bodies are read: the conventions, and unknown members refused (a misspelt option is an error, not a default).</summary>
    public static JsonSerializerOptions Requests { get; } = CreateRequestOptions();

    private static JsonSerializerOptions CreateRequestOptions()
    {
        var options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
