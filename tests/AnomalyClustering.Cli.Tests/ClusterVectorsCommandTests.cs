using System.Text.Json;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// cluster-vectors end to end against tests/fixtures/cli (made by tools/fixtures/gen_cli_vectors.py):
/// SciPy's Ward partition and scikit-learn's NMI / ARI / Hungarian accuracy for the same embeddings.
/// </summary>
public sealed class ClusterVectorsCommandTests
{
    private static readonly Expected Reference = Expected.Load();

    [Fact]
    public void NpyWithLabelsByIndexReproducesScipyAndScikitLearn()
    {
        using var folder = new TempFolder();
        var run = CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "--labels", TestPaths.Fixture("cli", "labels_by_index.csv"), "-o", folder.Path);

        Assert.True(run.ExitCode == 0, run.Error);
        var rows = ResultJson.ClustersCsv(folder.Path);
        // Ids of an .npy are row indices; the 'combined' rows are gone.
        Assert.Equal(Reference.KeptRows.Select(r => r.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Select(r => r.Image));
        Assert.Equal(Reference.Labels, rows.Select(r => r.Label));
        AssertSamePartition(Reference.WardMaxclust, rows.Select(r => r.Cluster).ToArray());

        using var result = ResultJson.Load(folder.Path);
        Assert.Equal(Reference.Nmi, result.Metric("nmi"), 1e-9);
        Assert.Equal(Reference.Ari, result.Metric("ari"), 1e-9);
        Assert.Equal(Reference.F1, result.Metric("f1"), 1e-9);
        Assert.Equal(Reference.K, result.Root.GetProperty("clusterCount").GetInt32());
        Assert.Equal(3, result.Root.GetProperty("source").GetProperty("excluded").GetProperty("combined").GetInt32());
        Assert.Equal(rows.Count - 1, result.Result.MergeTree.LinkageMatrix.Count);
        Assert.Contains(FormattableString.Invariant($"NMI {Reference.Nmi:F3}"), run.Output);
    }

    [Fact]
    public void CsvWithIdColumnAndLabelsByIdAgreesWithCoreMetrics()
    {
        using var folder = new TempFolder();
        var run = CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.csv"), "--labels", TestPaths.Fixture("cli", "labels.csv"), "--out", folder.Path);

        Assert.True(run.ExitCode == 0, run.Error);
        var rows = ResultJson.ClustersCsv(folder.Path);
        Assert.Equal(Reference.KeptIds, rows.Select(r => r.Image));
        AssertSamePartition(Reference.WardMaxclust, rows.Select(r => r.Cluster).ToArray());

        // The metrics in result.json are Core's metrics of the written partition.
        var core = ClusteringMetrics.Evaluate(rows.Select(r => r.Label!).ToList(), rows.Select(r => r.Cluster).ToArray());
        using var result = ResultJson.Load(folder.Path);
        Assert.Equal(core.NormalizedMutualInformation, result.Metric("nmi"), 1e-12);
        Assert.Equal(core.AdjustedRandIndex, result.Metric("ari"), 1e-12);
        Assert.Equal(core.HungarianF1, result.Metric("f1"), 1e-12);
    }

    [Fact]
    public void DistanceThresholdCutsLikeScipyFclusterDistance()
    {
        using var folder = new TempFolder();
        var threshold = Reference.Threshold.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var run = CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.csv"), "--labels", TestPaths.Fixture("cli", "labels.csv"), "--distance-threshold", threshold, "-o", folder.Path);

        Assert.True(run.ExitCode == 0, run.Error);
        AssertSamePartition(Reference.WardThreshold, ResultJson.ClustersCsv(folder.Path).Select(r => r.Cluster).ToArray());
    }

    [Fact]
    public void WithoutLabelsTheClusterCountIsFoundAndItsCurveRecorded()
    {
        using var folder = new TempFolder();
        var run = CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-o", folder.Path);

        Assert.True(run.ExitCode == 0, run.Error);
        var rows = ResultJson.ClustersCsv(folder.Path);
        Assert.Equal(39, rows.Count);
        using var result = ResultJson.Load(folder.Path);
        Assert.Equal(JsonValueKind.Null, result.Root.GetProperty("metrics").ValueKind);
        Assert.True(result.Root.GetProperty("options").GetProperty("automaticClusters").GetBoolean());
        var choice = result.Root.GetProperty("clusterCountChoice");
        Assert.Equal("silhouette", choice.GetProperty("criterion").GetString());
        var curve = choice.GetProperty("curve").EnumerateArray().ToArray();
        Assert.Equal(Enumerable.Range(2, 19), curve.Select(point => point.GetProperty("k").GetInt32()));
        // The chosen K is the curve's maximum and the written clusters are that cut.
        var best = curve.MaxBy(point => point.GetProperty("value").GetDouble());
        Assert.Equal(best.GetProperty("k").GetInt32(), choice.GetProperty("clusters").GetInt32());
        Assert.Equal(choice.GetProperty("clusters").GetInt32(), rows.Select(r => r.Cluster).Distinct().Count());
        Assert.Contains("found automatically", run.Output);

        run = CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "3", "-o", folder.Path);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(3, ResultJson.ClustersCsv(folder.Path).Select(r => r.Cluster).Distinct().Count());
        using var given = ResultJson.Load(folder.Path);
        Assert.Equal(JsonValueKind.Null, given.Root.GetProperty("clusterCountChoice").ValueKind);
    }

    [Theory]
    [InlineData("silhouette")]
    [InlineData("calinski-harabasz")]
    [InlineData("height-gap")]
    public void TenWellSeparatedGaussiansGiveTenClusters(string criterion)
    {
        // Issue 12's acceptance: 10 Gaussian blobs (unit spread, centres 8 apart per axis on average) and no -k.
        const int k = 10, perCluster = 60, dimension = 16;
        var random = new Random(12);
        var centres = Enumerable.Range(0, k * dimension).Select(_ => NextGaussian(random) * 8).ToArray();
        var points = new float[k * perCluster * dimension];
        var truth = new string[k * perCluster];
        for (var i = 0; i < truth.Length; i++)
        {
            var c = i % k;
            truth[i] = c.ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (var d = 0; d < dimension; d++)
            {
                points[(i * dimension) + d] = (float)(centres[(c * dimension) + d] + NextGaussian(random));
            }
        }
        using var folder = new TempFolder();
        var file = folder.Combine("blobs.npy");
        File.WriteAllBytes(file, AnomalyClustering.Core.Interop.NpyArray.FromSingles(points, truth.Length, dimension).ToBytes());

        var run = CliRun.InProcess("cluster-vectors", file, "--clusters", "auto", "--cluster-criterion", criterion, "-o", folder.Combine("out"));

        Assert.True(run.ExitCode == 0, run.Error);
        using var result = ResultJson.Load(folder.Combine("out"));
        Assert.Equal(10, result.Root.GetProperty("clusterCountChoice").GetProperty("clusters").GetInt32());
        Assert.Equal(criterion, result.Root.GetProperty("clusterCountChoice").GetProperty("criterion").GetString());
        var clusters = ResultJson.ClustersCsv(folder.Combine("out")).Select(r => r.Cluster).ToArray();
        Assert.Equal(1.0, ClusteringMetrics.AdjustedRandIndex(truth.Select(int.Parse).ToArray(), clusters), 1e-12);
    }

    [Fact]
    public void AutoWithLabelsStillFindsKAndBadValuesAreInputErrors()
    {
        using var folder = new TempFolder();
        var run = CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "--labels", TestPaths.Fixture("cli", "labels_by_index.csv"), "-k", "auto", "--max-clusters", "6", "-o", folder.Path);
        Assert.True(run.ExitCode == 0, run.Error);
        using var result = ResultJson.Load(folder.Path);
        Assert.Equal(5, result.Root.GetProperty("clusterCountChoice").GetProperty("curve").GetArrayLength());

        CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "many").AssertOneLineError(CliExitCodes.InputError, "'auto'");
        CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "auto", "--distance-threshold", "1").AssertOneLineError(CliExitCodes.InputError, "not both");
        CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "--min-clusters", "9", "--max-clusters", "4").AssertOneLineError(CliExitCodes.InputError, "9..4");
    }

    private static double NextGaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    [Fact]
    public void AnOutputFolderThatIsAFileIsRefusedBeforeClustering()
    {
        using var folder = new TempFolder();
        var outFile = folder.Combine("out.txt");
        File.WriteAllText(outFile, "not a folder");
        // -k 40 is more clusters than images: had the clustering run first, it would have refused that instead.
        var run = CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "40", "--out", outFile);
        run.AssertOneLineError(CliExitCodes.InputError, "is a file");
        Assert.DoesNotContain("embeddings of dimension", run.Output, StringComparison.Ordinal);
        Assert.Equal("not a folder", File.ReadAllText(outFile));
    }

    [Fact]
    public void MoreClustersThanImagesIsAnInputError() =>
        CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "40", "-o", Path.GetTempPath())
            .AssertOneLineError(CliExitCodes.InputError, "40 clusters");

    [Fact]
    public void UnknownLinkageIsAUsageError() =>
        CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "3", "--linkage", "centroid")
            .AssertOneLineError(CliExitCodes.UsageError, "centroid");

    [Fact]
    public void AGpuAssignmentThisBuildCannotLoadIsAnInputErrorAndAnUnknownOneAUsageError()
    {
        using var folder = new TempFolder();
        // This build carries the CPU ONNX Runtime only, so the assignment graph of a two-stage method cannot go to CUDA:
        // said before any clustering.
        CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "3", "--algorithm", "two-stage-ward", "--execution-provider", "cuda", "-o", folder.Path)
            .AssertOneLineError(CliExitCodes.InputError, "Cuda");
        Assert.False(File.Exists(Path.Combine(folder.Path, "clusters.csv")));
        // Without a k-means step (exact Ward for a small file) the provider goes unused, and says so.
        var run = CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "3", "--execution-provider", "cuda", "-o", folder.Path);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("--execution-provider cuda: not used", run.Output);
        Assert.True(File.Exists(Path.Combine(folder.Path, "clusters.csv")));
        CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "3", "--execution-provider", "tpu")
            .AssertOneLineError(CliExitCodes.UsageError, "tpu");
    }

    [Fact]
    public void ClustersAndThresholdTogetherAreRejected() =>
        CliRun.InProcess("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "-k", "3", "--distance-threshold", "1")
            .AssertOneLineError(CliExitCodes.InputError, "not both");

    [Fact]
    public void BuiltExecutableReportsMetricsAndExitCodes()
    {
        using var folder = new TempFolder();
        var run = CliRun.Executable("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "--labels", TestPaths.Fixture("cli", "labels_by_index.csv"), "-o", folder.Path);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains(FormattableString.Invariant($"NMI {Reference.Nmi:F3}"), run.Output);
        Assert.True(File.Exists(Path.Combine(folder.Path, "result.json")));

        CliRun.Executable("cluster-vectors", folder.Combine("missing.npy"), "-k", "2").AssertOneLineError(CliExitCodes.InputError, "does not exist");
        CliRun.Executable("cluster-vectors", TestPaths.Fixture("cli", "vectors.npy"), "--no-such-option").AssertOneLineError(CliExitCodes.UsageError, "--no-such-option");
    }

    /// <summary>Two labelings are the same partition when one relabels the other (ARI exactly 1).</summary>
    private static void AssertSamePartition(int[] expected, int[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var forward = new Dictionary<int, int>();
        var backward = new Dictionary<int, int>();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(forward.TryAdd(expected[i], actual[i]) || forward[expected[i]] == actual[i], $"image {i}: partitions differ");
            Assert.True(backward.TryAdd(actual[i], expected[i]) || backward[actual[i]] == expected[i], $"image {i}: partitions differ");
        }
    }

    private sealed record Expected(int[] KeptRows, string[] KeptIds, string[] Labels, int K, int[] WardMaxclust, double Threshold, int[] WardThreshold, double Nmi, double Ari, double F1)
    {
        public static Expected Load()
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("cli", "expected.json")));
            var root = document.RootElement;
            int[] Ints(string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
            string[] Strings(string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();
            return new Expected(
                Ints("kept_rows"), Strings("kept_ids"), Strings("labels"), root.GetProperty("k").GetInt32(), Ints("ward_maxclust"),
                root.GetProperty("threshold").GetDouble(), Ints("ward_threshold"),
                root.GetProperty("nmi").GetDouble(), root.GetProperty("ari").GetDouble(), root.GetProperty("f1").GetDouble());
        }
    }
}
