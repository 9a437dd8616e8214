namespace AnomalyClustering.Reports.Images;

/// <summary>Where a report reads the clustered images from: files for the CLI, the job's blobs for the API.</summary>
public interface IReportImageSource
{
    /// <summary>The encoded bytes of image <paramref name="imageId"/>, or null when it is no longer there (the report shows a placeholder).</summary>
    Task<byte[]?> ReadAsync(string imageId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The alpha map of image <paramref name="imageId"/> when the result does not carry it (a large job's result keeps alpha
    /// maps per image, not in a file), or null: then the image has no heat map. Sources of files have none to give.
    /// </summary>
    Task<float[]?> ReadAlphaMapAsync(string imageId, CancellationToken cancellationToken = default) => Task.FromResult<float[]?>(null);
}
