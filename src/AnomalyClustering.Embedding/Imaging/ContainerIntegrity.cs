using System.Buffers.Binary;

namespace AnomalyClustering.Embedding.Imaging;

/// <summary>
/// Truncation checks that read the container structure, for the cases where the decoder cannot tell:
/// a progressive JPEG cut after its first scans decodes "successfully" (blurred), and a WebP cut inside
/// its header fails as "invalid" rather than "incomplete". Both checks are O(file size) and allocate nothing.
/// </summary>
internal static class ContainerIntegrity
{
    /// <summary>What a walk over a JPEG's marker segments found.</summary>
    internal readonly record struct JpegLayout(bool HasEndOfImage, bool IsProgressive);

    /// <summary>
    /// Walks a JPEG's markers: length-prefixed segments are skipped whole, entropy-coded data after
    /// each SOS is scanned for the next marker (0xFF followed by neither 0x00 stuffing nor RSTn).
    /// Reports whether an EOI marker was reached and whether a progressive SOF was seen.
    /// </summary>
    public static JpegLayout ScanJpeg(ReadOnlySpan<byte> data)
    {
        var progressive = false;
        var pos = 2; // after SOI
        while (true)
        {
            var next = data[pos..].IndexOf((byte)0xFF);
            if (next < 0)
            {
                return new JpegLayout(false, progressive);
            }
            pos += next;
            while (pos < data.Length && data[pos] == 0xFF)
            {
                pos++; // fill bytes
            }
            if (pos >= data.Length)
            {
                return new JpegLayout(false, progressive);
            }
            var marker = data[pos++];
            if (marker == 0xD9)
            {
                return new JpegLayout(true, progressive);
            }
            if (marker is 0x00 or 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue; // stuffing, TEM and restart markers carry no length
            }
            if (pos + 2 > data.Length)
            {
                return new JpegLayout(false, progressive);
            }
            // SOF2, SOF6, SOF10, SOF14: progressive (Huffman or arithmetic, sequential or differential).
            progressive |= marker is 0xC2 or 0xC6 or 0xCA or 0xCE;
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            pos += length;
            if (pos > data.Length)
            {
                return new JpegLayout(false, progressive);
            }
            if (marker == 0xDA)
            {
                pos = SkipEntropyCodedData(data, pos);
            }
        }
    }

    /// <summary>
    /// The byte count a WebP file declares in its RIFF header (RIFF size field + 8), or -1 when the
    /// header itself is incomplete.
    /// </summary>
    public static long WebpDeclaredLength(ReadOnlySpan<byte> data) =>
        data.Length < 8 ? -1 : BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) + 8L;

    private static int SkipEntropyCodedData(ReadOnlySpan<byte> data, int pos)
    {
        while (true)
        {
            var next = data[pos..].IndexOf((byte)0xFF);
            if (next < 0 || pos + next + 1 >= data.Length)
            {
                return data.Length;
            }
            pos += next;
            var following = data[pos + 1];
            if (following is 0x00 or (>= 0xD0 and <= 0xD7))
            {
                pos += 2; // stuffed 0xFF or restart marker: still inside the scan
                continue;
            }
            return pos; // a real marker: let the segment walk handle it
        }
    }
}
