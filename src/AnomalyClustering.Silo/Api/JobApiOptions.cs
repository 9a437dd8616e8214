namespace AnomalyClustering.Silo.Api;

/// <summary>Limits of the job API (configuration section <c>AnomalyClustering:Api</c>).</summary>
public sealed class JobApiOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "AnomalyClustering:Api";

    /// <summary>Most bytes of one upload request (<c>POST /jobs/upload</c>), all files together; default 10 GiB.</summary>
    public long MaxUploadBytes { get; set; } = 10L << 30;

    /// <summary>Most bytes of one uploaded file; default 256 MiB (what a worker reads of one image at most).</summary>
    public long MaxUploadFileBytes { get; set; } = 256L << 20;

    /// <summary>Most files of one upload.</summary>
    public int MaxUploadFiles { get; set; } = 200_000;

    /// <summary>Most images a job over a blob prefix may list.</summary>
    public int MaxPrefixImages { get; set; } = 1_000_000;

    /// <summary>
    /// The largest image side (pixels) a job may accept; a job's own <c>maxImageDimension</c> can only lower it (a larger one
    /// is capped to this). Bounds one decoded image at 4 x this squared bytes (RGBA): 256 MiB at the default 8192.
    /// </summary>
    public int MaxImageDimension { get; set; } = 8192;

    /// <summary>The largest <c>pretrainDimension</c> (P) a job may ask for; larger is refused (400) with this setting named.</summary>
    public int MaxPretrainDimension { get; set; } = 4096;

    /// <summary>The largest <c>targetDimension</c> (T) a job may ask for; larger is refused (400) with this setting named.</summary>
    public int MaxTargetDimension { get; set; } = 2048;

    /// <summary>
    /// The largest <c>patchSize</c> (k) a job may ask for: a worker aggregates C x k^2 values per position before pooling
    /// (ResNet-50's layer3 at k = 7: 50,176 per position, 157 MB per image); larger is refused (400) with this setting named.
    /// </summary>
    public int MaxPatchSize { get; set; } = 7;

    /// <summary>The most reference images (<c>refs</c>) a job may ask for; 0 (every image, exact) is allowed.</summary>
    public int MaxReferenceImages { get; set; } = 1024;

    /// <summary>
    /// The largest normal-bank <c>coreset</c> fraction a job may ask for; larger is refused (400) with this setting named.
    /// Selecting C of P normal patches costs a worker O(P C) distances, so a fraction near 1 of a large normal set would hold
    /// it for hours; 0.25 by default, PatchCore's largest published setting. 0 (no coreset) is always allowed.
    /// </summary>
    public double MaxCoresetFraction { get; set; } = 0.25;

    /// <summary>
    /// The most images whose served report reads the whole result (images.parquet, errors.parquet, linkage.npy): up to
    /// this the page lists every image (for re-cutting the tree in it), so it is O(N) anyway. Larger results render from
    /// result.json and report-digest.json alone, O(K x M + top of the tree) bytes whatever N is. Default 100,000 (the
    /// report's own limit for listing every image); 0 renders every result that has a digest from it.
    /// </summary>
    public int ReportWholeReadUpTo { get; set; } = 100_000;

    /// <summary>
    /// The address clients reach the API at (e.g. <c>https://clusters.example.com/api</c>): the served report's thumbnail
    /// links and its API calls start with it. Unset, they are relative to this host's root. Never taken from the request's
    /// Host header, which a client chooses.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>The origin (scheme://host[:port]) of <see cref="PublicBaseUrl"/>, or null when it is unset.</summary>
    /// <exception cref="InvalidOperationException">The setting is not an absolute http(s) address.</exception>
    public string? PublicOrigin()
    {
        if (string.IsNullOrWhiteSpace(PublicBaseUrl))
        {
            return null;
        }
        return Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? uri.GetLeftPart(UriPartial.Authority)
            : throw new InvalidOperationException($"{Section}:PublicBaseUrl '{PublicBaseUrl}' is not an absolute http(s) address; give the address clients reach the API at, e.g. https://clusters.example.com/api.");
    }
}
