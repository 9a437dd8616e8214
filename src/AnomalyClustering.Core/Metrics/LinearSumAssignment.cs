using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Metrics;

/// <summary>
/// The rectangular linear sum assignment problem (Hungarian problem): match every row of the
/// smaller side to a distinct column (or column to row) so that the total cost is minimal or maximal.
/// Shortest augmenting paths with dual variables (Crouse 2016, the algorithm of
/// scipy.optimize.linear_sum_assignment, with its tie-breaking, so results equal SciPy's):
/// O(n^2 m) time and O(n m) memory for an n x m problem with n = min(rows, columns).
/// </summary>
public static class LinearSumAssignment
{
    /// <summary>Solves the problem for a dense cost matrix.</summary>
    /// <param name="cost">Cost of assigning row i to column j at [i, j]. +infinity forbids a pair.</param>
    /// <param name="maximize">Maximise the total instead of minimising it.</param>
    /// <exception cref="InvalidClusteringInputException">A cost is NaN or -infinity (+infinity when maximising), or no complete assignment avoids the forbidden pairs.</exception>
    public static Assignment Solve(double[,] cost, bool maximize = false)
    {
        ArgumentNullException.ThrowIfNull(cost);
        var rows = cost.GetLength(0);
        var columns = cost.GetLength(1);
        var flat = new double[rows * columns];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                flat[i * columns + j] = cost[i, j];
            }
        }
        return Solve(flat, rows, columns, maximize);
    }

    /// <summary>Solves the problem for a row-major <paramref name="rows"/> x <paramref name="columns"/> cost matrix.</summary>
    /// <param name="cost">Row-major costs; cost of row i and column j at i * columns + j. +infinity forbids a pair.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Number of columns.</param>
    /// <param name="maximize">Maximise the total instead of minimising it.</param>
    /// <returns>min(rows, columns) pairs sorted by row; empty when either side is empty.</returns>
    /// <exception cref="InvalidClusteringInputException">Shape and length disagree, a cost is NaN or -infinity (+infinity when maximising), or no complete assignment avoids the forbidden pairs.</exception>
    public static Assignment Solve(ReadOnlySpan<double> cost, int rows, int columns, bool maximize = false)
    {
        Guard.AtLeast(rows, 0, "rows");
        Guard.AtLeast(columns, 0, "columns");
        Guard.Length(cost.Length, rows * columns, "cost matrix");
        if (rows == 0 || columns == 0)
        {
            return new Assignment([], [], 0.0);
        }

        // The algorithm needs at least as many columns as rows: a tall matrix is solved transposed.
        var transpose = columns < rows;
        var nr = transpose ? columns : rows;
        var nc = transpose ? rows : columns;
        var work = new double[nr * nc];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                var value = maximize ? -cost[i * columns + j] : cost[i * columns + j];
                if (double.IsNaN(value) || double.IsNegativeInfinity(value))
                {
                    throw new InvalidClusteringInputException(
                        $"cost matrix holds {cost[i * columns + j]} at ({i}, {j}); costs must be numbers, and +infinity (forbidden pair) is only allowed when minimising.",
                        nameof(cost));
                }
                work[transpose ? j * nc + i : i * nc + j] = value;
            }
        }

        var columnOfRow = SolveWide(work, nr, nc);

        var rowIndices = new int[nr];
        var columnIndices = new int[nr];
        if (transpose)
        {
            // Rows of the work matrix are original columns; report pairs sorted by original row.
            var order = new int[nr];
            for (var k = 0; k < nr; k++)
            {
                order[k] = k;
            }
            var keys = (int[])columnOfRow.Clone();
            Array.Sort(keys, order);
            for (var k = 0; k < nr; k++)
            {
                rowIndices[k] = keys[k];
                columnIndices[k] = order[k];
            }
        }
        else
        {
            for (var i = 0; i < nr; i++)
            {
                rowIndices[i] = i;
                columnIndices[i] = columnOfRow[i];
            }
        }

        var total = 0.0;
        for (var k = 0; k < nr; k++)
        {
            total += cost[rowIndices[k] * columns + columnIndices[k]];
        }
        return new Assignment(rowIndices, columnIndices, total);
    }

    /// <summary>Minimises over a row-major nr x nc matrix with nr &lt;= nc; returns the column of every row.</summary>
    private static int[] SolveWide(double[] cost, int nr, int nc)
    {
        var u = new double[nr];
        var v = new double[nc];
        var shortestPathCosts = new double[nc];
        var path = new int[nc];
        var columnOfRow = new int[nr];
        var rowOfColumn = new int[nc];
        var rowVisited = new bool[nr];
        var columnVisited = new bool[nc];
        var remaining = new int[nc];
        Array.Fill(path, -1);
        Array.Fill(columnOfRow, -1);
        Array.Fill(rowOfColumn, -1);

        for (var currentRow = 0; currentRow < nr; currentRow++)
        {
            var (sink, minValue) = ShortestAugmentingPath(cost, nc, u, v, path, rowOfColumn, shortestPathCosts, currentRow, rowVisited, columnVisited, remaining);
            if (sink < 0)
            {
                throw new InvalidClusteringInputException(
                    "cost matrix is infeasible: every complete assignment uses a forbidden (+infinity) pair.", "cost");
            }

            // Update the dual variables so that reduced costs stay non-negative.
            u[currentRow] += minValue;
            for (var i = 0; i < nr; i++)
            {
                if (rowVisited[i] && i != currentRow)
                {
                    u[i] += minValue - shortestPathCosts[columnOfRow[i]];
                }
            }
            for (var j = 0; j < nc; j++)
            {
                if (columnVisited[j])
                {
                    v[j] -= minValue - shortestPathCosts[j];
                }
            }

            // Flip the matching along the path from the sink back to the current row.
            var column = sink;
            while (true)
            {
                var row = path[column];
                rowOfColumn[column] = row;
                (columnOfRow[row], column) = (column, columnOfRow[row]);
                if (row == currentRow)
                {
                    break;
                }
            }
        }
        return columnOfRow;
    }

    /// <summary>Dijkstra over reduced costs from row <paramref name="row"/> to the nearest unmatched column. O(nr * nc).</summary>
    private static (int Sink, double MinValue) ShortestAugmentingPath(
        double[] cost, int nc, double[] u, double[] v, int[] path, int[] rowOfColumn, double[] shortestPathCosts,
        int row, bool[] rowVisited, bool[] columnVisited, int[] remaining)
    {
        var minValue = 0.0;
        var remainingCount = nc;
        for (var it = 0; it < nc; it++)
        {
            // Reverse order makes a constant cost matrix give the identity assignment, as in SciPy.
            remaining[it] = nc - it - 1;
        }
        Array.Clear(rowVisited);
        Array.Clear(columnVisited);
        Array.Fill(shortestPathCosts, double.PositiveInfinity);

        var sink = -1;
        while (sink == -1)
        {
            var index = -1;
            var lowest = double.PositiveInfinity;
            rowVisited[row] = true;
            var uRow = u[row];
            // The hot loop of the solver, O(nc) per visited row: indices come from `remaining`, which
            // only holds columns < nc, so the arrays are read without bounds checks.
            ref var rowCosts = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(cost), (nint)row * nc);
            ref var remainingStart = ref MemoryMarshal.GetArrayDataReference(remaining);
            ref var vStart = ref MemoryMarshal.GetArrayDataReference(v);
            ref var shortestStart = ref MemoryMarshal.GetArrayDataReference(shortestPathCosts);
            ref var pathStart = ref MemoryMarshal.GetArrayDataReference(path);
            ref var rowOfColumnStart = ref MemoryMarshal.GetArrayDataReference(rowOfColumn);
            for (var it = 0; it < remainingCount; it++)
            {
                var j = (nint)Unsafe.Add(ref remainingStart, it);
                ref var shortest = ref Unsafe.Add(ref shortestStart, j);
                // Same operation order as SciPy so that ties break identically.
                var reduced = minValue + Unsafe.Add(ref rowCosts, j) - uRow - Unsafe.Add(ref vStart, j);
                if (reduced < shortest)
                {
                    Unsafe.Add(ref pathStart, j) = row;
                    shortest = reduced;
                }
                // Among equally short paths prefer one that ends at a free column.
                if (shortest < lowest || (shortest == lowest && Unsafe.Add(ref rowOfColumnStart, j) == -1))
                {
                    lowest = shortest;
                    index = it;
                }
            }

            minValue = lowest;
            if (double.IsPositiveInfinity(minValue))
            {
                return (-1, minValue);
            }
            var column = remaining[index];
            if (rowOfColumn[column] == -1)
            {
                sink = column;
            }
            else
            {
                row = rowOfColumn[column];
            }
            columnVisited[column] = true;
            remaining[index] = remaining[--remainingCount];
        }
        return (sink, minValue);
    }
}

/// <summary>The solution of a <see cref="LinearSumAssignment"/> problem: pairs (row, column) sorted by row.</summary>
public sealed class Assignment
{
    internal Assignment(int[] rowIndices, int[] columnIndices, double totalCost)
    {
        RowIndices = rowIndices;
        ColumnIndices = columnIndices;
        TotalCost = totalCost;
    }

    /// <summary>The row of each pair, ascending (SciPy's row_ind).</summary>
    public IReadOnlyList<int> RowIndices { get; }

    /// <summary>The column of each pair (SciPy's col_ind).</summary>
    public IReadOnlyList<int> ColumnIndices { get; }

    /// <summary>Number of pairs, min(rows, columns).</summary>
    public int Count => RowIndices.Count;

    /// <summary>Sum of the original costs of the chosen pairs (not negated when maximising).</summary>
    public double TotalCost { get; }
}
