using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Interop;

/// <summary>
/// An array in NumPy's <c>.npy</c> format (version 1-3, C order, little-endian), parsed from or
/// written to bytes: the interchange format for embeddings computed elsewhere and for test fixtures.
/// </summary>
public sealed partial class NpyArray
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private readonly byte[] _payload;

    private NpyArray(string dtype, int[] shape, byte[] payload)
    {
        DType = dtype;
        Shape = shape;
        _payload = payload;
    }

    /// <summary>NumPy's type string: <c>&lt;f4</c>, <c>&lt;f8</c>, <c>&lt;i4</c>, <c>&lt;i8</c>, <c>|u1</c>, <c>|b1</c>.</summary>
    public string DType { get; }

    /// <summary>The array's shape; an empty shape is a scalar.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Number of elements (the product of the shape).</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Parses a whole <c>.npy</c> file's bytes.</summary>
    /// <exception cref="InvalidClusteringInputException">Not an .npy file, Fortran order, big-endian or an unsupported type.</exception>
    public static NpyArray Parse(ReadOnlySpan<byte> bytes)
    {
        var header = ParseHeader(bytes);
        var count = header.Shape.Aggregate(1L, (a, b) => a * b);
        var expectedBytes = count * ElementSize(header.DType);
        if (bytes.Length - header.DataOffset < expectedBytes)
        {
            throw new InvalidClusteringInputException($".npy data is truncated: {bytes.Length - header.DataOffset} bytes for {count} elements of {header.DType}");
        }
        return new NpyArray(header.DType, header.Shape, bytes.Slice(header.DataOffset, checked((int)expectedBytes)).ToArray());
    }

    /// <summary>
    /// Parses only the header of an <c>.npy</c> file from its first bytes (the whole header must be in them), so that a
    /// reader can stream the data into an array of its own instead of holding the file's bytes and a converted copy.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Not an .npy file, a truncated header, Fortran order, big-endian or an unsupported type.</exception>
    public static NpyHeader ParseHeader(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
        {
            throw new InvalidClusteringInputException("not a NumPy .npy file (magic bytes missing)");
        }
        int major = bytes[6];
        int headerLength;
        int headerStart;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]));
            headerStart = 12;
        }
        else
        {
            throw new InvalidClusteringInputException($".npy format version {major} is not supported (1, 2 or 3 are)");
        }
        if (bytes.Length < headerStart + headerLength)
        {
            throw new InvalidClusteringInputException(".npy header is truncated");
        }
        var header = Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
        {
            throw new InvalidClusteringInputException($".npy header is malformed: {header.Trim()}");
        }
        if (fortran.Groups[1].Value == "True")
        {
            throw new InvalidClusteringInputException(".npy array is in Fortran order; save it with numpy.ascontiguousarray first");
        }
        var dtype = descr.Groups[1].Value;
        if (dtype.Length > 0 && dtype[0] == '=')
        {
            dtype = "<" + dtype[1..];
        }
        // Refuses an unsupported element type here, before any data is read.
        _ = ElementSize(dtype);
        var shapeText = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[shapeText.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            // Parsed as a wide integer first: a dimension past int's range is an array this reader cannot hold (an input
            // error like any other too-large file), not a parse failure.
            if (!ulong.TryParse(shapeText[i], NumberStyles.None, CultureInfo.InvariantCulture, out var dimension))
            {
                throw new InvalidClusteringInputException($".npy header is malformed: shape entry '{shapeText[i]}' is not a count: {header.Trim()}");
            }
            if (dimension > int.MaxValue)
            {
                throw new InvalidClusteringInputException(
                    $".npy data is too large: shape ({string.Join(", ", shapeText)}) has a dimension over {int.MaxValue}.");
            }
            shape[i] = (int)dimension;
        }
        return new NpyHeader(dtype, shape, headerStart + headerLength);
    }

    /// <summary>Creates a float32 array of the given shape (the data is copied).</summary>
    public static NpyArray FromSingles(ReadOnlySpan<float> data, params int[] shape) =>
        FromBytes("<f4", shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));

    /// <summary>Creates a float64 array of the given shape (the data is copied).</summary>
    public static NpyArray FromDoubles(ReadOnlySpan<double> data, params int[] shape) =>
        FromBytes("<f8", shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));

    /// <summary>The elements converted to double, in C order.</summary>
    public double[] ToDoubles()
    {
        var result = new double[Count];
        var size = ElementSize(DType);
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ReadAsDouble(_payload.AsSpan(i * size, size));
        }
        return result;
    }

    /// <summary>The elements converted to float, in C order.</summary>
    public float[] ToSingles()
    {
        if (DType == "<f4")
        {
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(_payload).ToArray();
        }
        return Array.ConvertAll(ToDoubles(), d => (float)d);
    }

    /// <summary>The elements as 64-bit integers; throws for floating-point arrays.</summary>
    public long[] ToInt64()
    {
        if (DType[1] == 'f')
        {
            throw new InvalidClusteringInputException($".npy array holds {DType} values, expected integers");
        }
        return Array.ConvertAll(ToDoubles(), d => (long)d);
    }

    /// <summary>The whole file's bytes, format version 1.0.</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        WriteHeader(stream, DType, Shape);
        stream.Write(_payload);
        return stream.ToArray();
    }

    /// <summary>
    /// Writes a float32 .npy file of <paramref name="rowCount"/> rows of <paramref name="width"/> values, each row from
    /// <paramref name="row"/>(i), without assembling the matrix first: O(N D) time, O(1) extra memory.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">A row of another width.</exception>
    public static void WriteSingleRows(Stream stream, int rowCount, int width, Func<int, ReadOnlyMemory<float>> row)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(row);
        WriteHeader(stream, "<f4", [rowCount, width]);
        for (var i = 0; i < rowCount; i++)
        {
            var values = row(i);
            if (values.Length != width)
            {
                throw new InvalidClusteringInputException($"row {i} has {values.Length} values; every row must have {width}.");
            }
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.Span));
        }
    }

    /// <summary>
    /// Reads a 2-D float32 or float64 .npy file into one float array with one copy of the data: the header from the first
    /// bytes, then float32 rows straight into the result (float64 converted in chunks), so 1,000,000 x 256 floats take
    /// 1 GB, not 3. O(N D).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">Not a 2-D float .npy, empty, truncated or larger than one array; the message says which.</exception>
    public static float[] ReadSingleMatrix(Stream stream, out int rowCount, out int width)
    {
        var elementSize = ReadMatrixHeader(stream, out rowCount, out width);
        var elements = (long)rowCount * width;
        var values = GC.AllocateUninitializedArray<float>((int)elements);
        if (elementSize == sizeof(float))
        {
            stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }
        var chunk = new double[1 << 16];
        var chunkBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(chunk.AsSpan());
        for (long done = 0; done < elements; done += chunk.Length)
        {
            var take = (int)Math.Min(chunk.Length, elements - done);
            stream.ReadExactly(chunkBytes[..(take * sizeof(double))]);
            for (var i = 0; i < take; i++)
            {
                values[done + i] = (float)chunk[i];
            }
        }
        return values;
    }

    /// <summary>
    /// Reads a 2-D float32 or float64 .npy file as one float array per row, each read straight from the stream: the rows
    /// are the only copy (reading the matrix and then splitting it held the data twice, 2 GB at 1,000,000 x 256). O(N D).
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">As <see cref="ReadSingleMatrix"/>.</exception>
    public static float[][] ReadSingleRows(Stream stream, out int rowCount, out int width)
    {
        var elementSize = ReadMatrixHeader(stream, out rowCount, out width);
        var rows = new float[rowCount][];
        var wide = elementSize == sizeof(double) ? new double[width] : null;
        for (var i = 0; i < rowCount; i++)
        {
            var row = GC.AllocateUninitializedArray<float>(width);
            if (wide is null)
            {
                stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()));
            }
            else
            {
                stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(wide.AsSpan()));
                for (var k = 0; k < width; k++)
                {
                    row[k] = (float)wide[k];
                }
            }
            rows[i] = row;
        }
        return rows;
    }

    /// <summary>Reads and checks a 2-D float .npy header, leaves the stream at the first value and returns the size of one (4 or 8).</summary>
    private static int ReadMatrixHeader(Stream stream, out int rowCount, out int width)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var prefix = new byte[(int)Math.Min(stream.Length - stream.Position, 1 << 16)];
        stream.ReadExactly(prefix);
        var header = ParseHeader(prefix);
        if (header.Shape.Length != 2)
        {
            throw new InvalidClusteringInputException($"the array has shape ({string.Join(", ", header.Shape)}); a 2-D N x D array is needed.");
        }
        if (header.DType is not ("<f4" or "<f8"))
        {
            throw new InvalidClusteringInputException($"the array holds {header.DType}; float32 (<f4) or float64 (<f8) is needed.");
        }
        (rowCount, width) = (header.Shape[0], header.Shape[1]);
        if (rowCount == 0 || width == 0)
        {
            throw new InvalidClusteringInputException($"the array is empty (shape {rowCount} x {width}).");
        }
        var elements = (long)rowCount * width;
        var elementSize = header.DType == "<f4" ? sizeof(float) : sizeof(double);
        var dataStart = stream.Position - prefix.Length + header.DataOffset;
        if (elements > Array.MaxLength || stream.Length - dataStart < elements * elementSize)
        {
            throw new InvalidClusteringInputException(
                $".npy data is truncated or too large: {stream.Length - dataStart} bytes for {rowCount} x {width} {header.DType}.");
        }
        stream.Position = dataStart;
        return elementSize;
    }

    private static void WriteHeader(Stream stream, string dtype, IReadOnlyList<int> shape)
    {
        var shapeText = shape.Count == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        var header = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shapeText}, }}";
        // NumPy pads the header with spaces so that the data starts on a 64-byte boundary.
        var unpadded = 10 + header.Length + 1;
        header += new string(' ', (64 - unpadded % 64) % 64) + "\n";
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)header.Length));
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(header));
    }

    private static NpyArray FromBytes(string dtype, int[] shape, ReadOnlySpan<byte> data)
    {
        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (count * ElementSize(dtype) != data.Length)
        {
            throw new InvalidClusteringInputException($"shape ({string.Join(", ", shape)}) does not match {data.Length / ElementSize(dtype)} elements");
        }
        return new NpyArray(dtype, shape, data.ToArray());
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "<f4" or "<i4" or "<u4" => 4,
        "<f8" or "<i8" or "<u8" => 8,
        "<i2" or "<u2" => 2,
        "|u1" or "|i1" or "|b1" => 1,
        _ => throw new InvalidClusteringInputException($".npy type '{dtype}' is not supported (little-endian float32/float64 or integers are)"),
    };

    private double ReadAsDouble(ReadOnlySpan<byte> b) => DType switch
    {
        "<f4" => BinaryPrimitives.ReadSingleLittleEndian(b),
        "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(b),
        "<i4" => BinaryPrimitives.ReadInt32LittleEndian(b),
        "<u4" => BinaryPrimitives.ReadUInt32LittleEndian(b),
        "<i8" => BinaryPrimitives.ReadInt64LittleEndian(b),
        "<u8" => BinaryPrimitives.ReadUInt64LittleEndian(b),
        "<i2" => BinaryPrimitives.ReadInt16LittleEndian(b),
        "<u2" => BinaryPrimitives.ReadUInt16LittleEndian(b),
        "|i1" => (sbyte)b[0],
        _ => b[0],
    };

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order':\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

/// <summary>The header of an <c>.npy</c> file: element type, shape and where the C-order data starts.</summary>
/// <param name="DType">NumPy's type string, little-endian (<c>&lt;f4</c>, <c>&lt;f8</c>, ...).</param>
/// <param name="Shape">The array's shape.</param>
/// <param name="DataOffset">Byte offset of the first element in the file.</param>
public sealed record NpyHeader(string DType, int[] Shape, int DataOffset);
