using System.Globalization;
using System.Text;

namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// Recognises an encoded image's format from its first bytes (its magic number), so a failed decode
/// can say "TIFF is not supported" or "this is not an image" instead of a generic error.
/// </summary>
internal static class ImageSignature
{
    /// <summary>Formats this decoder reads, as named in messages.</summary>
    public const string SupportedList = "PNG, JPEG, BMP, GIF, WebP and TIFF";

    /// <summary>
    /// The format whose signature starts <paramref name="data"/>, and whether SkiaSharp decodes it; null
    /// when unknown. Data shorter than a supported format's signature that matches its beginning counts
    /// as that format (a file cut within its first bytes is truncated, not "not an image").
    /// </summary>
    public static (string Name, bool Supported)? Detect(ReadOnlySpan<byte> data)
    {
        if (Starts(data, 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A)) return ("PNG", true);
        if (Starts(data, 0xFF, 0xD8, 0xFF)) return ("JPEG", true);
        if (Starts(data, "GIF87a"u8) || Starts(data, "GIF89a"u8)) return ("GIF", true);
        if (Starts(data, "RIFF"u8) && (data.Length <= 8 || Starts(data[8..], "WEBP"u8))) return ("WebP", true);
        if (Starts(data, "BM"u8)) return ("BMP", true);
        if (Starts(data, 0x00, 0x00, 0x01, 0x00)) return ("ICO", true);

        if (data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8) || data.StartsWith("II+\0"u8) || data.StartsWith("MM\0+"u8)) return ("TIFF", true);
        if (data.StartsWith("8BPS"u8)) return ("Photoshop PSD", false);
        if (StartsFully(data, 0x00, 0x00, 0x00, 0x0C, (byte)'j', (byte)'P', 0x20, 0x20) || StartsFully(data, 0xFF, 0x4F, 0xFF, 0x51)) return ("JPEG 2000", false);
        if (StartsFully(data, 0xFF, 0x0A) || StartsFully(data, 0x00, 0x00, 0x00, 0x0C, (byte)'J', (byte)'X', (byte)'L', 0x20)) return ("JPEG XL", false);
        if (data.Length >= 12 && data[4..8].SequenceEqual("ftyp"u8))
        {
            var brand = Encoding.ASCII.GetString(data[8..12]);
            return (brand is "avif" or "avis" ? "AVIF" : brand is "heic" or "heix" or "hevc" or "mif1" or "msf1" ? "HEIF" : "ISO media (" + brand + ")", false);
        }
        if (StartsFully(data, 0x76, 0x2F, 0x31, 0x01)) return ("OpenEXR", false);
        if (data.StartsWith("DDS "u8)) return ("DirectDraw Surface", false);
        if (data.StartsWith("qoif"u8)) return ("QOI", false);
        if (data.Length >= 132 && data[128..132].SequenceEqual("DICM"u8)) return ("DICOM", false);
        if (data.Length >= 3 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7' && data[2] is (byte)'\n' or (byte)'\r' or (byte)' ' or (byte)'\t') return ("Netpbm (PBM/PGM/PPM)", false);
        if (LooksLikeSvg(data)) return ("SVG (vector graphics)", false);
        return null;
    }

    /// <summary>A short, printable description of how the data starts, for "not an image" messages.</summary>
    public static string DescribeStart(ReadOnlySpan<byte> data)
    {
        var head = data[..Math.Min(data.Length, 24)];
        var printable = 0;
        foreach (var b in head)
        {
            if (b is >= 0x20 and < 0x7F or (byte)'\n' or (byte)'\r' or (byte)'\t') printable++;
        }
        if (printable == head.Length)
        {
            var text = Encoding.ASCII.GetString(head).Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t");
            return "it starts with the text \"" + text + (data.Length > head.Length ? "...\"" : "\"");
        }
        var hex = new StringBuilder();
        foreach (var b in head[..Math.Min(head.Length, 8)])
        {
            hex.Append(b.ToString("X2", CultureInfo.InvariantCulture)).Append(' ');
        }
        return "it starts with the bytes " + hex.ToString().TrimEnd();
    }

    private static bool Starts(ReadOnlySpan<byte> data, params ReadOnlySpan<byte> signature) =>
        data.StartsWith(signature) || (data.Length < signature.Length && signature.StartsWith(data));

    private static bool StartsFully(ReadOnlySpan<byte> data, params ReadOnlySpan<byte> signature) => data.StartsWith(signature);

    private static bool LooksLikeSvg(ReadOnlySpan<byte> data)
    {
        var head = data[..Math.Min(data.Length, 256)].TrimStart(" \t\r\n"u8);
        return head.StartsWith("<svg"u8) || (head.StartsWith("<?xml"u8) && head.IndexOf("<svg"u8) >= 0);
    }
}
