using AnomalyClustering.Jobs;

namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// File or bytes to the backbone's input tensor in one call: <see cref="ImageDecoder"/> then
/// <see cref="ImagePreprocessor"/>. Keeps one decoded-image buffer between calls, so a loop over a
/// dataset allocates nothing per image once the largest image has been seen; use one loader per thread.
/// </summary>
/// <example>
/// Filling a batch in place:
/// <code>
/// var loader = new ImageLoader();
/// var batch = new float[paths.Count * loader.TensorLength];
/// for (var i = 0; i &lt; paths.Count; i++)
///     loader.Load(paths[i], batch.AsSpan(i * loader.TensorLength, loader.TensorLength));
/// </code>
/// </example>
public sealed class ImageLoader
{
    private readonly RgbImage _decoded = new();

    /// <summary>Creates a loader with the given preprocessing and decoding options (defaults: the reference pipeline).</summary>
    public ImageLoader(PreprocessingOptions? preprocessing = null, ImageDecodeOptions? decoding = null)
    {
        Preprocessor = new ImagePreprocessor(preprocessing);
        Decoder = new ImageDecoder(decoding);
    }

    /// <summary>The decoder (thread-safe; may be shared).</summary>
    public ImageDecoder Decoder { get; }

    /// <summary>The preprocessor (thread-safe; may be shared).</summary>
    public ImagePreprocessor Preprocessor { get; }

    /// <summary>Floats written per image: 3 x crop height x crop width.</summary>
    public int TensorLength => Preprocessor.TensorLength;

    /// <summary>One image's tensor shape (channels, height, width).</summary>
    public (int Channels, int Height, int Width) TensorShape => (3, Preprocessor.Options.CropHeight, Preprocessor.Options.CropWidth);

    /// <summary>Decodes and preprocesses a file into <paramref name="destination"/> (exactly <see cref="TensorLength"/> floats).</summary>
    /// <exception cref="ImageDecodeException">The file is unreadable, empty, truncated, not an image, unsupported, too large or corrupt.</exception>
    public void Load(string path, Span<float> destination)
    {
        Decoder.Decode(path, _decoded);
        Preprocessor.Preprocess(_decoded, destination);
    }

    /// <summary>Decodes and preprocesses encoded bytes into <paramref name="destination"/>; <paramref name="imageId"/> names the image in errors.</summary>
    /// <exception cref="ImageDecodeException">The bytes are empty, truncated, not an image, unsupported, too large or corrupt.</exception>
    public void Load(ReadOnlySpan<byte> encoded, string imageId, Span<float> destination)
    {
        Decoder.Decode(encoded, imageId, _decoded);
        Preprocessor.Preprocess(_decoded, destination);
    }

    /// <summary>Decodes and preprocesses a file into a new array of <see cref="TensorLength"/> floats.</summary>
    /// <exception cref="ImageDecodeException">See <see cref="Load(string, Span{float})"/>.</exception>
    public float[] Load(string path)
    {
        var tensor = new float[TensorLength];
        Load(path, tensor);
        return tensor;
    }
}
