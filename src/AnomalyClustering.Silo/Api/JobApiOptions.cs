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
}
