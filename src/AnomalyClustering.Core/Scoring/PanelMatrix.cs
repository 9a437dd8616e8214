using System.Numerics.Tensors;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// A rows x dimension float matrix re-laid-out for the nearest-patch GEMM kernel: rows are grouped
/// into panels of <see cref="PanelWidth"/>, and inside a panel element (w, t) sits at
/// <c>t * PanelWidth + w</c>, so that one step of the kernel's k-loop reads one contiguous run of
/// <see cref="PanelWidth"/> floats. The last panel is padded with zero rows.
/// </summary>
/// <remarks>
/// Storage is a pinned array aligned to 64 bytes (a cache line), so kernel loads never split lines,
/// and it is reused when the matrix is packed again with a size that fits. Packing is O(rows x dimension).
/// </remarks>
internal sealed class PanelMatrix
{
    private const int AlignmentBytes = 64;

    private float[] storage = [];
    private int start;

    /// <summary>Creates an empty matrix whose panels are <paramref name="panelWidth"/> rows wide.</summary>
    public PanelMatrix(int panelWidth)
    {
        PanelWidth = panelWidth;
    }

    /// <summary>Rows in each panel (6 for the query side, 16 for the reference side of the kernel).</summary>
    public int PanelWidth { get; }

    /// <summary>Number of real (unpadded) rows.</summary>
    public int Rows { get; private set; }

    /// <summary>Length of every row.</summary>
    public int Dimension { get; private set; }

    /// <summary>Number of panels, ceil(Rows / PanelWidth).</summary>
    public int PanelCount => (Rows + PanelWidth - 1) / PanelWidth;

    /// <summary>Squared Euclidean norm of every row (float, as the kernel uses them); padded to whole panels with 0.</summary>
    public float[] SquaredNorms { get; private set; } = [];

    /// <summary>The packed panels, PanelCount x Dimension x PanelWidth floats, starting 64-byte aligned.</summary>
    public Span<float> Panels => storage.AsSpan(start, PanelCount * PanelWidth * Dimension);

    /// <summary>Index of the first packed float inside the pinned storage array.</summary>
    internal int Start => start;

    /// <summary>The pinned storage array (never moves; the kernel takes its address once per call).</summary>
    internal float[] Storage => storage;

    /// <summary>Prepares room for <paramref name="rows"/> x <paramref name="dimension"/> and zeroes the padding rows; the rows themselves must then be set.</summary>
    public void Resize(int rows, int dimension)
    {
        Rows = rows;
        Dimension = dimension;
        var padded = PanelCount * PanelWidth;
        var needed = padded * dimension;
        if (storage.Length < needed + AlignmentBytes / sizeof(float))
        {
            storage = GC.AllocateArray<float>(needed + AlignmentBytes / sizeof(float), pinned: true);
            start = AlignedStart(storage);
        }
        if (SquaredNorms.Length < padded)
        {
            SquaredNorms = new float[padded];
        }
        for (var row = rows; row < padded; row++)
        {
            ScatterRow(row, default, zero: true);
            SquaredNorms[row] = 0f;
        }
    }

    /// <summary>Packs a whole row-major matrix. O(rows x dimension).</summary>
    public void Pack(ReadOnlySpan<float> rowMajor, int rows, int dimension)
    {
        Resize(rows, dimension);
        for (var row = 0; row < rows; row++)
        {
            SetRow(row, rowMajor.Slice(row * dimension, dimension));
        }
    }

    /// <summary>Writes one row into its panel and records its squared norm.</summary>
    public void SetRow(int row, ReadOnlySpan<float> values)
    {
        ScatterRow(row, values, zero: false);
        SquaredNorms[row] = TensorPrimitives.SumOfSquares(values);
    }

    /// <summary>Copies row <paramref name="row"/> back out of its panel (a strided gather, O(dimension)).</summary>
    public void CopyRow(int row, Span<float> destination)
    {
        var panel = row / PanelWidth;
        var lane = row - panel * PanelWidth;
        var source = storage.AsSpan(start + panel * PanelWidth * Dimension);
        for (var t = 0; t < Dimension; t++)
        {
            destination[t] = source[t * PanelWidth + lane];
        }
    }

    private void ScatterRow(int row, ReadOnlySpan<float> values, bool zero)
    {
        var panel = row / PanelWidth;
        var lane = row - panel * PanelWidth;
        var target = storage.AsSpan(start + panel * PanelWidth * Dimension, PanelWidth * Dimension);
        for (var t = 0; t < Dimension; t++)
        {
            target[t * PanelWidth + lane] = zero ? 0f : values[t];
        }
    }

    private static unsafe int AlignedStart(float[] array)
    {
        fixed (float* p = array)
        {
            var misalignment = (int)((nuint)p % AlignmentBytes);
            return misalignment == 0 ? 0 : (AlignmentBytes - misalignment) / sizeof(float);
        }
    }
}
