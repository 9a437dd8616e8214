namespace AnomalyClustering.Reports.Images;

/// <summary>Where a report reads the clustered images from: files for the CLI, the job's blobs for the API.</summary>
public interface IReportImageSource
{
    /// <summary>The encoded bytes of image <paramref name="imageId"/>, or null when it is no longer there (the report shows a placeholder).</summary>
    Task<byte[]?> ReadAsync(string imageId, CancellationToken cancellationToken = default);
}
