using AnomalyClustering.Storage;
using Microsoft.Extensions.Configuration;

namespace AnomalyClustering.Grains.Hosting;

/// <summary>
/// Opens the blob store from configuration: <c>AnomalyClustering:Storage:Kind</c> = <c>Local</c> (folder
/// <c>AnomalyClustering:Storage:LocalRoot</c>) or <c>AzureBlob</c> (<c>ConnectionStrings:Blobs</c>, or
/// <c>AnomalyClustering:Storage:ServiceUri</c> with DefaultAzureCredential), container <c>AnomalyClustering:Storage:Container</c>.
/// </summary>
public static class BlobStoreConfiguration
{
    /// <summary>The container used when none is configured.</summary>
    public const string DefaultContainer = "anomaly-clustering";

    /// <summary>Opens (and for Azure, creates when missing) the configured store.</summary>
    /// <exception cref="InvalidOperationException">The settings are missing or contradictory; the message names them.</exception>
    /// <exception cref="StoreFolderUnusableException">The local store's folder cannot be used (a file, not writable).</exception>
    public static async Task<IBlobStore> OpenAsync(IConfiguration configuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var kind = configuration["AnomalyClustering:Storage:Kind"] ?? "Local";
        var container = configuration["AnomalyClustering:Storage:Container"] ?? DefaultContainer;
        switch (kind.ToLowerInvariant())
        {
            case "local":
                var root = configuration["AnomalyClustering:Storage:LocalRoot"];
                if (string.IsNullOrWhiteSpace(root))
                {
                    root = Path.Combine(Path.GetTempPath(), "anomaly-clustering-store");
                }
                return OpenLocal(root);
            case "azureblob":
                var connectionString = configuration.GetConnectionString("Blobs");
                if (!string.IsNullOrWhiteSpace(connectionString))
                {
                    return await AzureBlobStore.ConnectAsync(connectionString, container, cancellationToken).ConfigureAwait(false);
                }
                var serviceUri = configuration["AnomalyClustering:Storage:ServiceUri"];
                if (!string.IsNullOrWhiteSpace(serviceUri))
                {
                    return await AzureBlobStore.ConnectAsync(new Uri(serviceUri), container, credential: null, cancellationToken).ConfigureAwait(false);
                }
                throw new InvalidOperationException("AnomalyClustering:Storage:Kind is AzureBlob but neither ConnectionStrings:Blobs nor AnomalyClustering:Storage:ServiceUri is set.");
            default:
                throw new InvalidOperationException($"AnomalyClustering:Storage:Kind is '{kind}'; use Local or AzureBlob.");
        }
    }

    /// <summary>
    /// The local store in <paramref name="root"/>. A folder that cannot be used at all (a file in the way, no permission, a
    /// read-only disk) is a setting to change, not a crash: it is said so, naming the folder and the cause.
    /// </summary>
    private static LocalDirectoryBlobStore OpenLocal(string root)
    {
        try
        {
            return new LocalDirectoryBlobStore(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreFolderUnusableException(Path.GetFullPath(root), e);
        }
    }
}
