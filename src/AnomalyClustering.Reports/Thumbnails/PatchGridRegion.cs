using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Thumbnails;

/// <summary>The part of a decoded image the backbone saw, and so the part its patch grid (alpha map) covers, in pixels.</summary>
/// <param name="Left">Left edge.</param>
/// <param name="Top">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
public readonly record struct PatchGridRegion(double Left, double Top, double Width, double Height)
{
    /// <summary>
    /// The region of a <paramref name="imageWidth"/> x <paramref name="imageHeight"/> image that
    /// <paramref name="preprocessing"/> turns into the backbone's input: the whole image when it is stretched (or when
    /// the preprocessing is unknown); for a centre crop, the crop window mapped back from the resized image, cut to the
    /// image where the crop would zero-pad it.
    /// </summary>
    public static PatchGridRegion Of(int imageWidth, int imageHeight, PreprocessingOptions? preprocessing)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageHeight, 1);
        if (preprocessing is null || preprocessing.ResizeMode == ImageResizeMode.Stretch)
        {
            return new PatchGridRegion(0, 0, imageWidth, imageHeight);
        }
        var (resizedWidth, resizedHeight) = ImagePreprocessor.ResizedSize(imageWidth, imageHeight, preprocessing.ResizeShorterSide);
        var scaleX = (double)imageWidth / resizedWidth;
        var scaleY = (double)imageHeight / resizedHeight;
        var left = Math.Max(0, ImagePreprocessor.CropOffset(resizedWidth, preprocessing.CropWidth) * scaleX);
        var top = Math.Max(0, ImagePreprocessor.CropOffset(resizedHeight, preprocessing.CropHeight) * scaleY);
        var width = Math.Min(imageWidth - left, preprocessing.CropWidth * scaleX);
        var height = Math.Min(imageHeight - top, preprocessing.CropHeight * scaleY);
        return new PatchGridRegion(left, top, width, height);
    }

    /// <summary>
    /// The thumbnail size of this region: its longer side <paramref name="size"/> pixels, the aspect ratio kept (at least 1 pixel).
    /// </summary>
    public (int Width, int Height) ThumbnailSize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return Width >= Height
            ? (size, Math.Max(1, (int)Math.Round(size * Height / Width)))
            : (Math.Max(1, (int)Math.Round(size * Width / Height)), size);
    }
}
