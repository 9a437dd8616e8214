namespace AnomalyClustering.Embedding.Imaging;

/// <summary>Why an image could not be decoded; each value calls for a different action by the person who supplied it.</summary>
public enum ImageDecodeFailure
{
    /// <summary>The file or buffer holds zero bytes (an interrupted copy or upload).</summary>
    Empty,

    /// <summary>The data ends before the image does: the file was cut short; copy or export it again.</summary>
    Truncated,

    /// <summary>The bytes carry no image signature at all (e.g. a text or HTML file with an image extension).</summary>
    NotAnImage,

    /// <summary>A recognised image format this decoder does not read (e.g. HEIF, Photoshop PSD); convert it to PNG or JPEG.</summary>
    UnsupportedFormat,

    /// <summary>The header declares dimensions (or the file a size) over the configured <see cref="ImageDecodeOptions"/> limits.</summary>
    TooLarge,

    /// <summary>The format is recognised but its data is invalid (bad header fields, damaged compressed data).</summary>
    Corrupt,

    /// <summary>The file could not be read at all (missing, no permission, I/O error).</summary>
    Unreadable,
}
