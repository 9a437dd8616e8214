namespace AnomalyClustering.Storage;

/// <summary>A blob store operation failed for a reason the caller can act on (the base of this area's typed errors).</summary>
public class BlobStoreException : IOException
{
    /// <summary>An error about the blob <paramref name="blobName"/>.</summary>
    public BlobStoreException(string message, string? blobName = null, Exception? innerException = null)
        : base(message, innerException)
    {
        BlobName = blobName;
    }

    /// <summary>The blob the operation was about, when there is one.</summary>
    public string? BlobName { get; }
}

/// <summary>The blob that was to be read does not exist.</summary>
public sealed class BlobNotFoundException : BlobStoreException
{
    /// <summary>An error naming the missing blob and the store it was looked for in.</summary>
    public BlobNotFoundException(string blobName, string storeDescription, Exception? innerException = null)
        : base($"Blob '{blobName}' does not exist in {storeDescription}.", blobName, innerException)
    {
    }
}

/// <summary>A create-only write found the blob already there (another writer came first).</summary>
public sealed class BlobAlreadyExistsException : BlobStoreException
{
    /// <summary>An error naming the blob that already exists.</summary>
    public BlobAlreadyExistsException(string blobName, string storeDescription, Exception? innerException = null)
        : base($"Blob '{blobName}' already exists in {storeDescription}; write with overwrite: true to replace it.",
            blobName, innerException)
    {
    }
}

/// <summary>A blob name (or listing prefix) breaks the naming rules of <see cref="BlobName"/>.</summary>
public sealed class InvalidBlobNameException : ArgumentException
{
    /// <summary>An error quoting the rejected name and the rule it breaks.</summary>
    public InvalidBlobNameException(string? blobName, string rule, string? paramName = null)
        : base($"Blob name '{blobName}' is not valid: {rule}. {BlobName.RulesSummary}", paramName)
    {
        RejectedName = blobName;
    }

    /// <summary>The name that was rejected.</summary>
    public string? RejectedName { get; }
}

/// <summary>A blob is larger than the caller is willing to hold in memory.</summary>
public sealed class BlobTooLargeException : BlobStoreException
{
    /// <summary>An error naming the blob and the limit it exceeds.</summary>
    public BlobTooLargeException(string blobName, long limitBytes)
        : base($"Blob '{blobName}' is larger than {limitBytes} bytes, the limit for reading it into memory.", blobName)
    {
        LimitBytes = limitBytes;
    }

    /// <summary>The limit that was exceeded.</summary>
    public long LimitBytes { get; }
}

/// <summary>
/// The store could not be reached or answered that it is busy or failing (the client's own retries gave up): an outage of
/// the dependency, not a fault of the blob or the request. Callers wait and try again.
/// </summary>
public sealed class BlobStoreUnavailableException : BlobStoreException
{
    /// <summary>An error naming the operation, the blob and the store that could not be reached.</summary>
    public BlobStoreUnavailableException(string message, string? blobName = null, Exception? innerException = null)
        : base(message, blobName, innerException)
    {
    }
}
