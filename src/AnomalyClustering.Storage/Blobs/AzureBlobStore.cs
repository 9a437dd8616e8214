using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace AnomalyClustering.Storage;

/// <summary>
/// An <see cref="IBlobStore"/> over one Azure Blob Storage container (created when missing). Every blob is a
/// block blob uploaded in one commit, so a write is atomic. The client speaks service version
/// <see cref="PinnedServiceVersion"/>, one that both Azure and the Azurite emulator used in tests accept.
/// </summary>
public sealed class AzureBlobStore : IBlobStore
{
    /// <summary>
    /// The REST API version the client speaks. Pinned rather than the SDK's newest, which the emulator
    /// (Azurite 3.37) would reject; Azure itself accepts every published version.
    /// </summary>
    public const BlobClientOptions.ServiceVersion PinnedServiceVersion = BlobClientOptions.ServiceVersion.V2025_11_05;

    /// <summary>Streams of unknown length up to this size are read whole and uploaded in one request.</summary>
    internal const int SingleRequestBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The bytes one ranged GET of <see cref="OpenSeekableReadAsync"/> fetches at most. Every read outside the range held
    /// fetches this much (a Parquet reader's first read is its 4-byte magic at the head), so it is kept near the size of what
    /// is read: a row group of the decision log (4,096 rows, a few hundred KB) takes a request or two.
    /// </summary>
    public const int SeekableReadBufferBytes = 256 * 1024;

    private readonly BlobContainerClient container;

    /// <summary>A store over a container the caller has made sure exists (see <see cref="ConnectAsync(string, string, CancellationToken)"/>).</summary>
    public AzureBlobStore(BlobContainerClient container)
    {
        this.container = container ?? throw new ArgumentNullException(nameof(container));
    }

    /// <summary>The container's URI (without credentials).</summary>
    public Uri ContainerUri => container.Uri;

    private string Description => $"container '{container.Name}' at {container.Uri.GetLeftPart(UriPartial.Authority)}";

    /// <summary>Client options with the pinned service version.</summary>
    public static BlobClientOptions CreateClientOptions() => new(PinnedServiceVersion);

    /// <summary>Connects with a storage connection string (account key or SAS) and creates the container when missing.</summary>
    /// <exception cref="BlobStoreException">The container name is invalid or the service refuses the request.</exception>
    public static Task<AzureBlobStore> ConnectAsync(string connectionString, string containerName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ValidateContainerName(containerName);
        var service = new BlobServiceClient(connectionString, CreateClientOptions());
        return CreateContainerAsync(service.GetBlobContainerClient(containerName), cancellationToken);
    }

    /// <summary>
    /// Connects to <paramref name="serviceUri"/> (e.g. https://ACCOUNT.blob.core.windows.net) with
    /// <paramref name="credential"/>, by default <see cref="DefaultAzureCredential"/> (workload identity in a
    /// pod, the developer's Azure CLI login locally), and creates the container when missing.
    /// </summary>
    /// <exception cref="BlobStoreException">The container name is invalid or the service refuses the request.</exception>
    public static Task<AzureBlobStore> ConnectAsync(Uri serviceUri, string containerName, TokenCredential? credential = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(serviceUri);
        ValidateContainerName(containerName);
        var service = new BlobServiceClient(serviceUri, credential ?? new DefaultAzureCredential(), CreateClientOptions());
        return CreateContainerAsync(service.GetBlobContainerClient(containerName), cancellationToken);
    }

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        BlobName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        var options = new BlobUploadOptions();
        if (!overwrite)
        {
            options.Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All };
        }
        var upload = content.CanSeek ? content : await BufferShortStreamAsync(content, cancellationToken).ConfigureAwait(false);
        try
        {
            await container.GetBlobClient(name).UploadAsync(upload, options, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (!overwrite && (e.Status == 409 || e.Status == 412))
        {
            throw new BlobAlreadyExistsException(name, Description, e);
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            throw Failure("write", name, e);
        }
        finally
        {
            if (!ReferenceEquals(upload, content))
            {
                await upload.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The SDK uploads a stream it cannot measure as staged blocks and then a block list: two requests even for a 20 KB image,
    /// and every file of an HTTP upload is such a stream. Reading up to <see cref="SingleRequestBytes"/> first lets a short
    /// stream go up in one request; a longer one goes on as the part read followed by the rest, in blocks as before.
    /// </summary>
    private static async Task<Stream> BufferShortStreamAsync(Stream content, CancellationToken cancellationToken)
    {
        var (head, complete) = await PrefixedStream.ReadHeadAsync(content, SingleRequestBytes, cancellationToken).ConfigureAwait(false);
        return complete ? head : new PrefixedStream(head, content);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobName.Validate(name);
        try
        {
            // One streaming GET; the SDK resumes it from the last byte on a transient failure.
            var response = await container.GetBlobClient(name).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new BlobNotFoundException(name, Description, e);
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            throw Failure("read", name, e);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The SDK's ranged read stream: one request for the blob's properties (length and ETag) on opening, then a ranged GET of
    /// up to <see cref="SeekableReadBufferBytes"/> for each read outside the range it holds (a seek past it costs nothing until
    /// the next read). Each GET is conditional on the ETag read on opening, so a blob replaced meanwhile fails the read
    /// instead of mixing two versions.
    /// </remarks>
    public async Task<Stream> OpenSeekableReadAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobName.Validate(name);
        try
        {
            var stream = await container.GetBlobClient(name)
                .OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { BufferSize = SeekableReadBufferBytes }, cancellationToken)
                .ConfigureAwait(false);
            return new AzureSeekableReadStream(stream, e => ReadFailure(name, e));
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            throw ReadFailure(name, e);
        }
    }

    /// <summary>The typed error for a read that failed: a blob that is not there (or was deleted while read) is a <see cref="BlobNotFoundException"/>.</summary>
    private BlobStoreException ReadFailure(string name, Exception e) => e is RequestFailedException { Status: 404 }
        ? new BlobNotFoundException(name, Description, e)
        : Failure("read", name, e);

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobName.Validate(name);
        try
        {
            return (await container.GetBlobClient(name).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            throw Failure("check", name, e);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobName.ValidatePrefix(prefix);
        var pages = container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix }, cancellationToken);
        await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            BlobItem item;
            try
            {
                if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
                item = enumerator.Current;
            }
            catch (Exception e) when (e is RequestFailedException or AggregateException)
            {
                throw Failure("list", prefix, e);
            }
            yield return new BlobEntry(item.Name, item.Properties.ContentLength ?? 0,
                item.Properties.LastModified ?? item.Properties.CreatedOn ?? DateTimeOffset.MinValue);
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobName.Validate(name);
        try
        {
            return (await container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            throw Failure("delete", name, e);
        }
    }

    private static async Task<AzureBlobStore> CreateContainerAsync(BlobContainerClient container, CancellationToken cancellationToken)
    {
        try
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            var where = $"container '{container.Name}' at {container.Uri.GetLeftPart(UriPartial.Authority)}";
            if (IsOutage(e))
            {
                throw new BlobStoreUnavailableException($"Cannot open {where}: the service cannot be reached ({Summary(e)}). Check that it runs and the network.",
                    innerException: e);
            }
            throw new BlobStoreException(
                $"Cannot open {where}: {Summary(e)}. Check the account, the credential's role (Storage Blob Data Contributor) and the network.",
                innerException: e);
        }
        return new AzureBlobStore(container);
    }

    private static void ValidateContainerName(string containerName)
    {
        // Azure's rule, checked here so that the error says what is wrong instead of a bare 400 from the service.
        var valid = containerName is { Length: >= 3 and <= 63 }
            && containerName.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
            && char.IsAsciiLetterOrDigit(containerName[0]) && char.IsAsciiLetterOrDigit(containerName[^1])
            && !containerName.Contains("--", StringComparison.Ordinal);
        if (!valid)
        {
            throw new ArgumentException(
                $"Container name '{containerName}' is not valid: 3 to 63 lowercase letters, digits and single hyphens, "
                + "starting and ending with a letter or digit (e.g. 'anomaly-clustering').", nameof(containerName));
        }
    }

    /// <summary>
    /// The typed error for what the SDK threw: an outage (<see cref="IsOutage"/>) is a <see cref="BlobStoreUnavailableException"/>,
    /// so that callers wait and retry instead of taking it as the blob's fault (and the API answers 503, not 500).
    /// </summary>
    private BlobStoreException Failure(string action, string name, Exception e) => IsOutage(e)
        ? new BlobStoreUnavailableException($"Cannot {action} blob '{name}': {Description} cannot be reached ({Summary(e)}).", name, e)
        : new BlobStoreException($"Cannot {action} blob '{name}' in {Description}: {Summary(e)}.", name, e);

    /// <summary>
    /// True when the service was not reached or answered busy or failing: status 0 (no answer), 408, 429, 5xx, or the
    /// <see cref="AggregateException"/> the SDK throws once its retries of such failures (or of network errors and
    /// timeouts) are used up.
    /// </summary>
    internal static bool IsOutage(Exception e) => e switch
    {
        RequestFailedException failed => failed.Status is 0 or 408 or 429 or >= 500,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsOutage),
        HttpRequestException or TimeoutException or IOException or OperationCanceledException => true,
        _ => false,
    };

    private static string Summary(Exception e) => e switch
    {
        RequestFailedException { Status: 0 } failed => $"no answer: {failed.InnerException?.GetType().Name ?? failed.Message}",
        RequestFailedException failed => $"{failed.Status} {failed.ErrorCode}",
        AggregateException aggregate => $"{aggregate.InnerExceptions.Count} attempts failed, the last: {Summary(aggregate.InnerExceptions[^1])}",
        _ => e.GetType().Name,
    };
}
