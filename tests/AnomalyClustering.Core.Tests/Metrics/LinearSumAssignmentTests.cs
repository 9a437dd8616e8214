using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Metrics;

/// <summary>The assignment solver against SciPy's linear_sum_assignment and against brute force.</summary>
public class LinearSumAssignmentTests
{
    public static TheoryData<string> Problems => MetricsFixtures.AssignmentNames();

    [Theory]
    [MemberData(nameof(Problems))]
    public void SameAssignmentAndTotalAsScipy(string name)
    {
        var fixture = MetricsFixtures.Assignment(name);
        var rows = fixture.GetProperty("rows").GetInt32();
        var columns = fixture.GetProperty("cols").GetInt32();
        var cost = MetricsFixtures.Doubles(fixture.GetProperty("cost"));
        var assignment = LinearSumAssignment.Solve(cost, rows, columns, fixture.GetProperty("maximize").GetBoolean());

        var expectedTotal = fixture.GetProperty("total").GetDouble();
        Assert.InRange(Math.Abs(assignment.TotalCost - expectedTotal), 0, 1e-9 * Math.Max(1, Math.Abs(expectedTotal)));
        // Same algorithm and tie-breaking as SciPy: even among equal-cost optima the same pairs are chosen.
        Assert.Equal(MetricsFixtures.Ints(fixture.GetProperty("row_ind")), assignment.RowIndices);
        Assert.Equal(MetricsFixtures.Ints(fixture.GetProperty("col_ind")), assignment.ColumnIndices);
    }

    [Fact]
    public void RandomRectangularProblemsReachTheBruteForceOptimum()
    {
        var random = new Random(11);
        for (var trial = 0; trial < 300; trial++)
        {
            var rows = random.Next(1, 6);
            var columns = random.Next(1, 6);
            var cost = new double[rows * columns];
            for (var k = 0; k < cost.Length; k++)
            {
                // Small integers make many ties; fractions make unique optima.
                cost[k] = trial % 2 == 0 ? random.Next(0, 4) : random.NextDouble() * 10 - 3;
            }
            foreach (var maximize in new[] { false, true })
            {
                var assignment = LinearSumAssignment.Solve(cost, rows, columns, maximize);
                AssertValid(assignment, rows, columns);
                var best = BruteForce(cost, rows, columns, maximize);
                Assert.Equal(best, assignment.TotalCost, 1e-9);
            }
        }
    }

    [Fact]
    public void ForbiddenPairsAreAvoided()
    {
        var inf = double.PositiveInfinity;
        double[,] cost =
        {
            { 1, inf, 5 },
            { inf, 2, inf },
            { 3, inf, inf },
        };
        var assignment = LinearSumAssignment.Solve(cost);
        Assert.Equal([0, 1, 2], assignment.RowIndices);
        Assert.Equal([2, 1, 0], assignment.ColumnIndices);
        Assert.Equal(10, assignment.TotalCost);
    }

    [Fact]
    public void TallMatrixIsSolvedAndReportedByRow()
    {
        double[,] cost =
        {
            { 9, 9 },
            { 1, 9 },
            { 9, 9 },
            { 9, 2 },
        };
        var assignment = LinearSumAssignment.Solve(cost);
        Assert.Equal([1, 3], assignment.RowIndices);
        Assert.Equal([0, 1], assignment.ColumnIndices);
        Assert.Equal(3, assignment.TotalCost);
    }

    [Fact]
    public void EmptySideGivesAnEmptyAssignment()
    {
        var assignment = LinearSumAssignment.Solve(ReadOnlySpan<double>.Empty, 0, 4);
        Assert.Equal(0, assignment.Count);
        Assert.Equal(0, assignment.TotalCost);
    }

    [Fact]
    public void InfeasibleMatrixIsRejected()
    {
        var inf = double.PositiveInfinity;
        double[,] cost = { { inf, 1 }, { inf, 2 } };
        var error = Assert.Throws<InvalidClusteringInputException>(() => LinearSumAssignment.Solve(cost));
        Assert.Contains("infeasible", error.Message);
    }

    [Theory]
    [InlineData(double.NaN, false)]
    [InlineData(double.NegativeInfinity, false)]
    [InlineData(double.PositiveInfinity, true)]
    public void InvalidCostsAreRejected(double bad, bool maximize)
    {
        double[,] cost = { { 1, 2 }, { bad, 4 } };
        Assert.Throws<InvalidClusteringInputException>(() => LinearSumAssignment.Solve(cost, maximize));
    }

    [Fact]
    public void ShapeMustMatchTheData()
    {
        Assert.Throws<InvalidClusteringInputException>(() => LinearSumAssignment.Solve(new double[5], 2, 3));
    }

    private static void AssertValid(Assignment assignment, int rows, int columns)
    {
        Assert.Equal(Math.Min(rows, columns), assignment.Count);
        Assert.Equal(assignment.Count, assignment.RowIndices.Distinct().Count());
        Assert.Equal(assignment.Count, assignment.ColumnIndices.Distinct().Count());
        Assert.Equal(assignment.RowIndices.Order(), assignment.RowIndices);
        Assert.All(assignment.RowIndices, r => Assert.InRange(r, 0, rows - 1));
        Assert.All(assignment.ColumnIndices, c => Assert.InRange(c, 0, columns - 1));
    }

    /// <summary>The optimum over every injective map of the smaller side into the larger.</summary>
    private static double BruteForce(double[] cost, int rows, int columns, bool maximize)
    {
        var small = Math.Min(rows, columns);
        var large = Math.Max(rows, columns);
        double Cost(int s, int l) => rows <= columns ? cost[s * columns + l] : cost[l * columns + s];
        var best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
        var used = new bool[large];
        void Search(int s, double total)
        {
            if (s == small)
            {
                best = maximize ? Math.Max(best, total) : Math.Min(best, total);
                return;
            }
            for (var l = 0; l < large; l++)
            {
                if (!used[l])
                {
                    used[l] = true;
                    Search(s + 1, total + Cost(s, l));
                    used[l] = false;
                }
            }
        }
        Search(0, 0);
        return best;
    }
}
