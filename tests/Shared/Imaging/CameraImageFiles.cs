using System.Buffers.Binary;
using System.IO.Compression;
using BitMiracle.LibTiff.Classic;

namespace AnomalyClustering.Testing.Imaging;

/// <summary>
/// Writes the image files industrial cameras produce, made in the test instead of committed: 16-bit greyscale PNG (by
/// hand: zlib and CRC-32 from their definitions) and TIFF of 8 or 16 bits per sample, grey or RGB (LibTiff.NET).
/// Sample values come from a function of (x, y, channel).
/// </summary>
internal static class CameraImageFiles
{
    /// <summary>A 16-bit greyscale PNG (colour type 0, bit depth 16), samples big-endian as PNG stores them.</summary>
    public static byte[] GreyPng16(int width, int height, Func<int, int, ushort> sample)
    {
        var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            raw.WriteByte(0); // filter: none
            for (var x = 0; x < width; x++)
            {
                var value = sample(x, y);
                raw.WriteByte((byte)(value >> 8));
                raw.WriteByte((byte)value);
            }
        }
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            raw.Position = 0;
            raw.CopyTo(zlib);
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 16; // bit depth
        header[9] = 0; // greyscale
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A TIFF of one strip-organised page: <paramref name="bits"/> 8 or 16, 1 (grey) or 3 (RGB) samples a pixel.</summary>
    public static byte[] Tiff(int width, int height, int bits, int samples, Func<int, int, int, int> sample,
        Photometric photometric = Photometric.MINISBLACK, Compression compression = Compression.NONE, Orientation orientation = Orientation.TOPLEFT)
    {
        var stream = new MemoryStream();
        using (var tiff = BitMiracle.LibTiff.Classic.Tiff.ClientOpen("test.tif", "w", stream, new TiffStream()))
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, width);
            tiff.SetField(TiffTag.IMAGELENGTH, height);
            tiff.SetField(TiffTag.BITSPERSAMPLE, bits);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, samples);
            tiff.SetField(TiffTag.PHOTOMETRIC, samples == 3 ? Photometric.RGB : photometric);
            tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
            tiff.SetField(TiffTag.COMPRESSION, compression);
            tiff.SetField(TiffTag.ORIENTATION, orientation);
            tiff.SetField(TiffTag.ROWSPERSTRIP, 4);
            var row = new byte[width * samples * bits / 8];
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    for (var c = 0; c < samples; c++)
                    {
                        var value = sample(x, y, c);
                        var index = x * samples + c;
                        if (bits == 8)
                        {
                            row[index] = (byte)value;
                        }
                        else
                        {
                            BitConverter.TryWriteBytes(row.AsSpan(index * 2, 2), (ushort)value);
                        }
                    }
                }
                if (!tiff.WriteScanline(row, y))
                {
                    throw new InvalidOperationException($"LibTiff could not write row {y}");
                }
            }
        }
        return stream.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32([.. typeBytes, .. data]));
        png.Write(word);
    }

    /// <summary>CRC-32 (ISO 3309, as PNG defines it), bit by bit: test images are small.</summary>
    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }
        return ~crc;
    }
}
