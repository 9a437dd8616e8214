using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// The live clusters of the Ward chain in ascending index order, one position each, column by
/// column (index, size, projected coordinates, projection error) so that a scan tests eight
/// positions per vector instruction against the projected lower bound. A merged-away cluster's
/// position is marked dead (index -1, first coordinate +infinity) and the columns are compacted
/// when half the positions are dead, so scans touch O(live) positions and compaction costs O(N P)
/// in all. (P + 3) x 4 bytes per point.
/// </summary>
internal sealed unsafe class LiveClusterTable
{
    private readonly int[] _index;
    private readonly float[] _size;
    private readonly float[] _error;
    private readonly float[] _coordinates;
    private readonly int[] _positionOf;
    private readonly int _capacity;

    public LiveClusterTable(int count, int width)
    {
        // Whole vectors: the tail of the last one is dead padding.
        _capacity = (count + 7) & ~7;
        Width = width;
        _index = GC.AllocateArray<int>(_capacity, pinned: true);
        _size = GC.AllocateArray<float>(_capacity, pinned: true);
        _error = GC.AllocateArray<float>(_capacity, pinned: true);
        _coordinates = GC.AllocateArray<float>(Math.Max(1, width * _capacity), pinned: true);
        _positionOf = new int[count];
        for (var i = 0; i < _capacity; i++)
        {
            _index[i] = i < count ? i : -1;
            if (i < count)
            {
                _positionOf[i] = i;
            }
        }
        for (var i = count; i < _capacity && width > 0; i++)
        {
            _coordinates[i] = float.PositiveInfinity;
        }
        Length = count;
        LiveCount = count;
    }

    /// <summary>Number of projected coordinates per cluster (0: no projected bound).</summary>
    public int Width { get; }

    /// <summary>Positions in use, live or dead; scans run over [0, Length).</summary>
    public int Length { get; private set; }

    /// <summary>Number of live clusters.</summary>
    public int LiveCount { get; private set; }

    /// <summary>Cluster at a position, -1 when dead.</summary>
    public int* Index => (int*)Unsafe.AsPointer(ref _index[0]);

    /// <summary>Size column (float; only the bound reads it).</summary>
    public float* Size => (float*)Unsafe.AsPointer(ref _size[0]);

    /// <summary>Projection error column (rounded up).</summary>
    public float* Error => (float*)Unsafe.AsPointer(ref _error[0]);

    /// <summary>Coordinate p of every position starts at <c>Coordinates + p * Stride</c>.</summary>
    public float* Coordinates => (float*)Unsafe.AsPointer(ref _coordinates[0]);

    /// <summary>Distance between one coordinate's column and the next.</summary>
    public int Stride => _capacity;

    /// <summary>The position of a live cluster.</summary>
    public int PositionOf(int cluster) => _positionOf[cluster];

    /// <summary>The lowest live cluster.</summary>
    public int First()
    {
        var position = 0;
        while (_index[position] < 0)
        {
            position++;
        }
        return _index[position];
    }

    /// <summary>Records a live cluster's size and projection.</summary>
    public void Set(int cluster, long size, ReadOnlySpan<float> coordinates, double error)
    {
        var position = _positionOf[cluster];
        _size[position] = size;
        // Rounded up, so the bound stays below the distance.
        _error[position] = double.IsFinite(error) ? (float)(error * (1 + 1e-6)) + float.Epsilon : float.PositiveInfinity;
        for (var p = 0; p < Width; p++)
        {
            _coordinates[p * _capacity + position] = coordinates[p];
        }
    }

    /// <summary>Marks a cluster dead; compacts the columns when half the positions are dead. O(1) amortised O(P).</summary>
    public void Remove(int cluster)
    {
        var position = _positionOf[cluster];
        _index[position] = -1;
        if (Width > 0)
        {
            _coordinates[position] = float.PositiveInfinity;
        }
        LiveCount--;
        if (2 * LiveCount < Length && Length > 64)
        {
            Compact();
        }
    }

    private void Compact()
    {
        var to = 0;
        for (var from = 0; from < Length; from++)
        {
            var cluster = _index[from];
            if (cluster < 0)
            {
                continue;
            }
            _index[to] = cluster;
            _size[to] = _size[from];
            _error[to] = _error[from];
            for (var p = 0; p < Width; p++)
            {
                _coordinates[p * _capacity + to] = _coordinates[p * _capacity + from];
            }
            _positionOf[cluster] = to;
            to++;
        }
        var newLength = to;
        for (; to < ((Length + 7) & ~7); to++)
        {
            _index[to] = -1;
            if (Width > 0)
            {
                _coordinates[to] = float.PositiveInfinity;
            }
        }
        Length = newLength;
    }

    /// <summary>
    /// A mask of the eight positions from <paramref name="position"/> (a multiple of 8) that the
    /// projected bound cannot rule out: bit i is clear when
    /// w_i * (||q_x - q_i|| (1 - 1e-4) - e_x - e_i)^2 (1 - 1e-4) exceeds <paramref name="upper"/>,
    /// w_i = 2 n_x n_i / (n_x + n_i). The 1e-4 margins cover every float rounding here (each a few
    /// 1e-7 relative) and the directions' departure from orthonormality. Dead positions are ruled
    /// out whenever <paramref name="upper"/> is finite. <paramref name="columns"/> is
    /// <see cref="Coordinates"/>, <paramref name="stride"/> <see cref="Stride"/> (hoisted by the caller).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint PossibleMask(int position, float* columns, int stride, float* projectedX, Vector256<float> errorX, Vector256<float> sizeX, Vector256<float> upper)
    {
        var coordinates = columns + position;
        var squares0 = Vector256<float>.Zero;
        var squares1 = Vector256<float>.Zero;
        // Width is 0, 4, 8 or 16.
        for (var p = 0; p < Width; p += 4)
        {
            var t0 = Vector256.Load(coordinates) - Vector256.Create(projectedX[p]);
            var t1 = Vector256.Load(coordinates + stride) - Vector256.Create(projectedX[p + 1]);
            var t2 = Vector256.Load(coordinates + 2 * stride) - Vector256.Create(projectedX[p + 2]);
            var t3 = Vector256.Load(coordinates + 3 * stride) - Vector256.Create(projectedX[p + 3]);
            squares0 = Vector256.FusedMultiplyAdd(t0, t0, squares0);
            squares1 = Vector256.FusedMultiplyAdd(t1, t1, squares1);
            squares0 = Vector256.FusedMultiplyAdd(t2, t2, squares0);
            squares1 = Vector256.FusedMultiplyAdd(t3, t3, squares1);
            coordinates += 4 * stride;
        }
        var bound = Vector256.Sqrt(squares0 + squares1) * Vector256.Create(1 - 1e-4f) - (errorX + Vector256.Load(Error + position));
        var sizes = Vector256.Load(Size + position);
        var weight = Vector256.Create(2f) * (sizeX * sizes / (sizeX + sizes));
        var ward = weight * bound * bound * Vector256.Create(1 - 1e-4f);
        // Ruled out only where the bound is positive and its Ward value is above the upper bound (NaN: kept).
        var ruledOut = Vector256.GreaterThan(bound, Vector256<float>.Zero) & Vector256.GreaterThan(ward, upper);
        return ~ruledOut.ExtractMostSignificantBits() & 0xFF;
    }

    /// <summary>Rounds a double upper bound up to float for <see cref="PossibleMask"/>.</summary>
    public static Vector256<float> UpperAsFloat(double upper)
    {
        var rounded = (float)(upper * (1 + 1e-6));
        return Vector256.Create(float.IsFinite(rounded) ? rounded : float.PositiveInfinity);
    }

    /// <summary>Iterates the set bits of a mask, lowest first.</summary>
    public static int NextBit(ref uint mask)
    {
        var bit = BitOperations.TrailingZeroCount(mask);
        mask &= mask - 1;
        return bit;
    }
}
