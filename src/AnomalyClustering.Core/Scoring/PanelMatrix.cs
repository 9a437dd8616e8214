using AnomalyClustering.Core.Simd;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AnomalyClustering.Core.Scoring;

/// <summary>
/// A rows x dimension float matrix re-laid-out for the nearest-patch GEMM kernel: rows are grouped
/// into panels of <see cref="PanelWidth"/>, and inside a panel element (w, t) sits at
/// <c>t * PanelWidth + w</c>, so that one step of the kernel's k-loop reads one contiguous run of
/// <see cref="PanelWidth"/> floats. The last panel is padded with zero rows.
/// </summary>
/// <remarks>
/// Storage is a pinned array aligned to 64 bytes (a cache line), so kernel loads never split lines,
/// and it is reused when the matrix is packed again with a size that fits. Packing is O(rows x dimension),
/// panel by panel with 8 x 8 AVX transposes where available, and can be split over workers by panel range.
/// </remarks>
internal sealed unsafe class PanelMatrix
{
    private const int AlignmentBytes = 64;

    private float[] storage = [];
    private int start;
    private float[]? source;

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

    /// <summary>
    /// True when every squared norm is finite, i.e. the rows hold no NaN or infinity (and no value so large
    /// that its square overflows float32, which the kernel could not use either). O(rows).
    /// </summary>
    public bool NormsAreFinite => TensorPrimitives.IsFiniteAll<float>(SquaredNorms.AsSpan(0, Rows));

    /// <summary>Index of the first packed float inside the pinned storage array.</summary>
    internal int Start => start;

    /// <summary>The pinned storage array (never moves; the kernel takes its address once per call).</summary>
    internal float[] Storage => storage;

    /// <summary>
    /// Prepares room for <paramref name="rows"/> x <paramref name="dimension"/>, remembering the row-major
    /// <paramref name="rowMajor"/> source when there is one (then <see cref="PackPanels"/> fills the panels;
    /// without one, <see cref="SetRow"/> must be called for every row).
    /// </summary>
    public void Resize(int rows, int dimension, float[]? rowMajor = null)
    {
        Rows = rows;
        Dimension = dimension;
        source = rowMajor;
        var padded = PanelCount * PanelWidth;
        var needed = padded * dimension;
        if (storage.Length < needed + AlignmentBytes / sizeof(float))
        {
            storage = GC.AllocateUninitializedArray<float>(needed + AlignmentBytes / sizeof(float), pinned: true);
            start = AlignedStart(storage);
        }
        if (SquaredNorms.Length < padded)
        {
            SquaredNorms = new float[padded];
        }
        if (rowMajor is null)
        {
            // Rows come one by one; the padding of the last panel must read as zero rows.
            storage.AsSpan(start + (PanelCount - 1) * PanelWidth * dimension, PanelWidth * dimension).Clear();
            SquaredNorms.AsSpan(rows, padded - rows).Clear();
        }
    }

    /// <summary>Packs a whole row-major matrix on the calling thread. O(rows x dimension).</summary>
    public void Pack(float[] rowMajor, int rows, int dimension)
    {
        Resize(rows, dimension, rowMajor);
        PackPanels(0, PanelCount);
    }

    /// <summary>
    /// Packs panels [<paramref name="firstPanel"/>, <paramref name="endPanel"/>) from the source given to
    /// <see cref="Resize"/>, with their norms; disjoint ranges may be packed by different threads.
    /// </summary>
    public void PackPanels(int firstPanel, int endPanel)
    {
        var rowMajor = source ?? throw new InvalidOperationException("PackPanels needs a row-major source.");
        var width = PanelWidth;
        var dimension = Dimension;
        fixed (float* from = rowMajor)
        fixed (float* to = &storage[start])
        {
            for (var panel = firstPanel; panel < endPanel; panel++)
            {
                var firstRow = panel * width;
                var rowsHere = Math.Min(width, Rows - firstRow);
                var target = to + (nint)panel * width * dimension;
                var t = 0;
                if (Avx.IsSupported && rowsHere == width && width % 8 == 0)
                {
                    for (; t + 8 <= dimension; t += 8)
                    {
                        for (var w = 0; w < width; w += 8)
                        {
                            SimdTranspose.Transpose8x8(ref *(from + (nint)(firstRow + w) * dimension + t), (nuint)dimension, ref *(target + t * width + w), (nuint)width);
                        }
                    }
                }
                for (; t < dimension; t++)
                {
                    var column = target + t * width;
                    var w = 0;
                    for (; w < rowsHere; w++)
                    {
                        column[w] = from[(nint)(firstRow + w) * dimension + t];
                    }
                    for (; w < width; w++)
                    {
                        column[w] = 0f;
                    }
                }
                for (var w = 0; w < width; w++)
                {
                    SquaredNorms[firstRow + w] = w < rowsHere
                        ? TensorPrimitives.SumOfSquares(new ReadOnlySpan<float>(from + (nint)(firstRow + w) * dimension, dimension))
                        : 0f;
                }
            }
        }
    }

    /// <summary>Writes one row into its panel and records its squared norm (for matrices without a row-major source).</summary>
    public void SetRow(int row, ReadOnlySpan<float> values)
    {
        var panel = row / PanelWidth;
        var lane = row - panel * PanelWidth;
        var target = storage.AsSpan(start + panel * PanelWidth * Dimension, PanelWidth * Dimension);
        for (var t = 0; t < Dimension; t++)
        {
            target[t * PanelWidth + lane] = values[t];
        }
        SquaredNorms[row] = TensorPrimitives.SumOfSquares(values);
    }

    /// <summary>Row <paramref name="row"/>: a view of the source when there is one, else gathered from its panel into <paramref name="scratch"/>. O(dimension).</summary>
    public ReadOnlySpan<float> Row(int row, Span<float> scratch)
    {
        if (source is not null)
        {
            return source.AsSpan(row * Dimension, Dimension);
        }
        var panel = row / PanelWidth;
        var lane = row - panel * PanelWidth;
        var packed = storage.AsSpan(start + panel * PanelWidth * Dimension);
        for (var t = 0; t < Dimension; t++)
        {
            scratch[t] = packed[t * PanelWidth + lane];
        }
        return scratch[..Dimension];
    }

    /// <summary>Copies row <paramref name="row"/> into <paramref name="destination"/>. O(dimension).</summary>
    public void CopyRow(int row, Span<float> destination) => Row(row, destination).CopyTo(destination);

    private static int AlignedStart(float[] array)
    {
        fixed (float* p = array)
        {
            var misalignment = (int)((nuint)p % AlignmentBytes);
            return misalignment == 0 ? 0 : (AlignmentBytes - misalignment) / sizeof(float);
        }
    }
}
