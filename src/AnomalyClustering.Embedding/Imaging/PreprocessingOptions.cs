namespace AnomalyClustering.Embedding.Imaging;

/// <summary>One value per colour channel, in R, G, B order (a normalisation mean or standard deviation).</summary>
/// <param name="Red">The red channel's value.</param>
/// <param name="Green">The green channel's value.</param>
/// <param name="Blue">The blue channel's value.</param>
public readonly record struct RgbValues(float Red, float Green, float Blue)
{
    /// <summary>The value of channel 0 (R), 1 (G) or 2 (B).</summary>
    public float this[int channel] => channel switch
    {
        0 => Red,
        1 => Green,
        2 => Blue,
        _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "channel must be 0, 1 or 2"),
    };
}

/// <summary>
/// How a decoded image becomes the backbone's input (METHOD.md section 1): resize so the shorter side
/// is <see cref="ResizeShorterSide"/> (PIL bilinear, as torchvision's Resize), centre-crop
/// <see cref="CropWidth"/> x <see cref="CropHeight"/>, scale to [0, 1], subtract <see cref="Mean"/>,
/// divide by <see cref="Std"/>. The defaults are the reference's: 256, 224 x 224, ImageNet statistics.
/// </summary>
public sealed record PreprocessingOptions
{
    /// <summary>ImageNet's per-channel mean (0.485, 0.456, 0.406).</summary>
    public static RgbValues ImageNetMean { get; } = new(0.485f, 0.456f, 0.406f);

    /// <summary>ImageNet's per-channel standard deviation (0.229, 0.224, 0.225).</summary>
    public static RgbValues ImageNetStd { get; } = new(0.229f, 0.224f, 0.225f);

    /// <summary>The reference pipeline: 256, centre crop 224 x 224, ImageNet mean and std.</summary>
    public static PreprocessingOptions Default { get; } = new();

    /// <summary>Target length of the shorter side after resizing; the longer side keeps the aspect ratio (truncated, as torchvision).</summary>
    public int ResizeShorterSide { get; init; } = 256;

    /// <summary>Width of the centre crop (the tensor's W). A crop wider than the resized image is zero-padded, as torchvision's CenterCrop.</summary>
    public int CropWidth { get; init; } = 224;

    /// <summary>Height of the centre crop (the tensor's H).</summary>
    public int CropHeight { get; init; } = 224;

    /// <summary>Per-channel mean subtracted after scaling to [0, 1].</summary>
    public RgbValues Mean { get; init; } = ImageNetMean;

    /// <summary>Per-channel standard deviation divided by after subtracting the mean.</summary>
    public RgbValues Std { get; init; } = ImageNetStd;

    /// <summary>Floats in one image's tensor: 3 x <see cref="CropHeight"/> x <see cref="CropWidth"/>.</summary>
    public int TensorLength => 3 * CropHeight * CropWidth;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for non-positive sizes, non-finite means or non-positive standard deviations.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ResizeShorterSide, 1, nameof(ResizeShorterSide));
        ArgumentOutOfRangeException.ThrowIfLessThan(CropWidth, 1, nameof(CropWidth));
        ArgumentOutOfRangeException.ThrowIfLessThan(CropHeight, 1, nameof(CropHeight));
        if ((long)CropWidth * CropHeight * 3 > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(CropWidth), $"a {CropWidth} x {CropHeight} crop does not fit in one tensor");
        }
        for (var c = 0; c < 3; c++)
        {
            if (!float.IsFinite(Mean[c]))
            {
                throw new ArgumentOutOfRangeException(nameof(Mean), Mean[c], $"mean of channel {c} must be finite");
            }
            if (!(Std[c] > 0) || !float.IsFinite(Std[c]))
            {
                throw new ArgumentOutOfRangeException(nameof(Std), Std[c], $"standard deviation of channel {c} must be positive and finite");
            }
        }
    }
}
