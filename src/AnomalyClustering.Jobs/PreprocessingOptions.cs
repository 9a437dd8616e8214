using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnomalyClustering.Jobs;

/// <summary>One value per colour channel, in R, G, B order (a normalisation mean or standard deviation).</summary>
/// <param name="Red">The red channel's value.</param>
/// <param name="Green">The green channel's value.</param>
/// <param name="Blue">The blue channel's value.</param>
[JsonConverter(typeof(RgbValuesJsonConverter))]
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

/// <summary>How the image is fitted to the backbone's input size.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ImageResizeMode>))]
public enum ImageResizeMode
{
    /// <summary>METHOD section 1: resize the shorter side to ResizeShorterSide, then take the centre crop (torchvision's Resize + CenterCrop).</summary>
    CenterCrop,

    /// <summary>
    /// Resize the whole image to the crop size, ignoring the aspect ratio: nothing is cut away, which
    /// matters for elongated images whose defects lie near the ends (magnetic tile strips).
    /// </summary>
    Stretch,
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

    /// <summary>Centre crop after a shorter-side resize (the reference), or the whole image stretched to the crop size.</summary>
    public ImageResizeMode ResizeMode { get; init; } = ImageResizeMode.CenterCrop;

    /// <summary>Per-channel mean subtracted after scaling to [0, 1].</summary>
    public RgbValues Mean { get; init; } = ImageNetMean;

    /// <summary>Per-channel standard deviation divided by after subtracting the mean.</summary>
    public RgbValues Std { get; init; } = ImageNetStd;

    /// <summary>Floats in one image's tensor: 3 x <see cref="CropHeight"/> x <see cref="CropWidth"/>.</summary>
    public int TensorLength => 3 * CropHeight * CropWidth;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for non-positive sizes, non-finite means or non-positive standard deviations.</summary>
    public void Validate()
    {
        foreach (var (parameter, problem) in Problems())
        {
            throw new ArgumentOutOfRangeException(parameter, problem);
        }
    }

    /// <summary>Every problem with these settings (the parameter and a sentence); empty when they are usable.</summary>
    public IEnumerable<(string Parameter, string Problem)> Problems()
    {
        if (!Enum.IsDefined(ResizeMode))
        {
            yield return (nameof(ResizeMode), $"preprocessing.resizeMode must be centerCrop or stretch (got {ResizeMode})");
        }
        if (ResizeShorterSide < 1)
        {
            yield return (nameof(ResizeShorterSide), $"preprocessing.resizeShorterSide must be at least 1 (got {ResizeShorterSide})");
        }
        if (CropWidth < 1 || CropHeight < 1)
        {
            yield return (nameof(CropWidth), $"preprocessing.cropWidth and cropHeight must be at least 1 (got {CropWidth} x {CropHeight})");
        }
        else if ((long)CropWidth * CropHeight * 3 > Array.MaxLength)
        {
            yield return (nameof(CropWidth), $"a {CropWidth} x {CropHeight} crop does not fit in one tensor");
        }
        for (var c = 0; c < 3; c++)
        {
            if (!float.IsFinite(Mean[c]))
            {
                yield return (nameof(Mean), $"preprocessing.mean of channel {c} must be finite (got {Mean[c]})");
            }
            if (!(Std[c] > 0) || !float.IsFinite(Std[c]))
            {
                yield return (nameof(Std), $"preprocessing.std of channel {c} must be positive and finite (got {Std[c]})");
            }
        }
    }

    /// <summary>A stable text form for cache identities: the same settings always give the same text.</summary>
    public string CanonicalText() => string.Create(CultureInfo.InvariantCulture,
        $"mode={ResizeMode};resize={ResizeShorterSide};crop={CropWidth}x{CropHeight};mean={Mean.Red:R},{Mean.Green:R},{Mean.Blue:R};std={Std.Red:R},{Std.Green:R},{Std.Blue:R}");
}

/// <summary>Reads and writes <see cref="RgbValues"/> as a JSON array [r, g, b], the form people write in configuration.</summary>
internal sealed class RgbValuesJsonConverter : JsonConverter<RgbValues>
{
    public override RgbValues Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var values = JsonSerializer.Deserialize<float[]>(ref reader, options);
        if (values is not { Length: 3 })
        {
            throw new JsonException("expected three numbers [red, green, blue]");
        }
        return new RgbValues(values[0], values[1], values[2]);
    }

    public override void Write(Utf8JsonWriter writer, RgbValues value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Red);
        writer.WriteNumberValue(value.Green);
        writer.WriteNumberValue(value.Blue);
        writer.WriteEndArray();
    }
}
