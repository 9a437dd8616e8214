namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// One image could not be read or decoded. The message starts with the image's path or id and says
/// what is wrong in words a person can act on ("crack_003.png: truncated PNG data (...)").
/// </summary>
public sealed class ImageDecodeException : Exception
{
    /// <summary>Creates the exception; the message is <c>"{imageId}: {detail}"</c>.</summary>
    /// <param name="imageId">The file path as given, or the caller's id for in-memory bytes.</param>
    /// <param name="reason">The kind of failure.</param>
    /// <param name="detail">What is wrong and, where possible, what to do about it.</param>
    /// <param name="innerException">The underlying I/O exception, when there is one.</param>
    public ImageDecodeException(string imageId, ImageDecodeFailure reason, string detail, Exception? innerException = null)
        : base($"{imageId}: {detail}", innerException)
    {
        ImageId = imageId;
        Reason = reason;
        Detail = detail;
    }

    /// <summary>The file path as given, or the caller's id for in-memory bytes.</summary>
    public string ImageId { get; }

    /// <summary>The kind of failure.</summary>
    public ImageDecodeFailure Reason { get; }

    /// <summary>The message without the image id.</summary>
    public string Detail { get; }

    /// <summary>The reason as a short machine-readable code (<c>corrupt</c>, <c>too-large</c>, ...) for result files and APIs.</summary>
    public string ReasonCode => Reason switch
    {
        ImageDecodeFailure.Empty => "empty",
        ImageDecodeFailure.Truncated => "truncated",
        ImageDecodeFailure.NotAnImage => "not-an-image",
        ImageDecodeFailure.UnsupportedFormat => "unsupported-format",
        ImageDecodeFailure.TooLarge => "too-large",
        ImageDecodeFailure.Corrupt => "corrupt",
        ImageDecodeFailure.Unreadable => "unreadable",
        _ => Reason.ToString().ToLowerInvariant(),
    };
}
