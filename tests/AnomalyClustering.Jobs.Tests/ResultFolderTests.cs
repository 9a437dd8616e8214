using System.Diagnostics;
using System.Text.Json;
using AnomalyClustering.Core.Clustering;

namespace AnomalyClustering.Jobs.Tests;

/// <summary>
/// The result files that scale: the folder reads back into the result it was written from, the summary's size does not
/// grow with N, and the .npy files are what NumPy and SciPy read.
/// </summary>
public sealed class ResultFolderTests : IDisposable
{
    private static readonly ResultSource Source = new("vectors", "/data/vectors.npy", null, null, null, new Dictionary<string, int> { ["combined"] = 2 });

    private readonly string _folder = Directory.CreateTempSubdirectory("anomaly-result-folder-").FullName;

    [Fact]
    public void TheFolderReadsBackIntoTheResultItWasWrittenFrom()
    {
        var result = Clustered(40, labelled: true, withAlpha: true) with
        {
            Names = ClusterNames.Empty.With(1, "stain"),
            Errors = [new ImageError("broken.png", "/data/broken.png", "corrupt", "not an image", IsNormalImage: false)],
        };

        ResultFolder.Write(_folder, result, Source);
        var (read, source) = ResultFolder.Read(_folder);

        Assert.True(ResultFolder.Holds(_folder));
        Assert.Equal(result.Images.Select(i => (i.Id, i.Cluster, i.Label)), read.Images.Select(i => (i.Id, i.Cluster, i.Label)));
        Assert.Equal(result.Images.Select(i => i.Embedding), read.Images.Select(i => i.Embedding));
        Assert.Equal(result.Images.Select(i => i.PatchWeights), read.Images.Select(i => i.PatchWeights));
        Assert.Equal(result.MergeTree.LinkageMatrix, read.MergeTree.LinkageMatrix);
        Assert.Equal(result.Errors, read.Errors);
        Assert.Equal(result.Options, read.Options);
        Assert.Equal(result.Scores!.NormalizedMutualInformation, read.Scores!.NormalizedMutualInformation);
        Assert.Equal(result.Scores.AdjustedRandIndex, read.Scores.AdjustedRandIndex);
        Assert.Equal(result.Scores.HungarianF1, read.Scores.HungarianF1);
        Assert.Equal(result.ClassNames, read.ClassNames);
        Assert.Equal((2, 3), (read.PatchGridHeight, read.PatchGridWidth));
        Assert.Equal("stain", read.Names.NameOf(1));
        Assert.Equal(2, source.Excluded["combined"]);
    }

    [Fact]
    public async Task ResultsWrittenAtOnceEachReadBackTheirOwnIds()
    {
        // Two jobs can finish on one coordinator at once: each write must use its own Parquet fields (a CI run once read
        // empty ids back when a field instance was shared between schemas).
        var results = Enumerable.Range(0, 8).Select(n => Clustered(300 + n, labelled: true, withAlpha: false) with
        {
            Errors = [new ImageError($"broken-{n}.png", $"/data/broken-{n}.png", "corrupt", "not an image", IsNormalImage: false)],
        }).ToArray();
        var folders = results.Select((_, n) => Directory.CreateDirectory(Path.Combine(_folder, $"job-{n}")).FullName).ToArray();

        await Task.WhenAll(Enumerable.Range(0, results.Length).Select(n => Task.Run(() => ResultFolder.Write(folders[n], results[n], Source), TestContext.Current.CancellationToken)));

        for (var n = 0; n < results.Length; n++)
        {
            var (read, _) = ResultFolder.Read(folders[n]);
            Assert.Equal(results[n].Images.Select(i => i.Id), read.Images.Select(i => i.Id));
            Assert.Equal(results[n].Errors, read.Errors);
        }
    }

    [Fact]
    public void TwoStageLeavesAnomalyScoresTheThresholdTheAlgorithmAndTheAutomaticKReadBack()
    {
        // Two-stage Ward forced on 60 points (its tree is over micro-clusters, each image on a leaf), K found automatically.
        var points = Points(60, out var labels);
        var ids = Enumerable.Range(0, 60).Select(i => $"images/{i:D5}.png").ToArray();
        var options = new ClusteringJobOptions { AutomaticClusterCount = true, Algorithm = ClusteringAlgorithm.TwoStageWard };
        var clustered = EmbeddingClustering.Run(points, 60, 3, ids, labels, options, patchWeights: null, progress: null);
        var scored = clustered with
        {
            Images = clustered.Images.Select((image, i) => image with
            {
                AnomalyScore = i % 3 == 0 ? 0.5 + i : 0.25 * i,
                // The image file's hash as a job's image grain records it; unknown for some.
                ContentSha256 = i % 4 == 0 ? null : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))),
            }).ToArray(),
            AnomalyThreshold = 7.5,
        };
        Assert.NotNull(scored.LeafOfImage);
        Assert.NotNull(scored.ClusterCountChoice);

        ResultFolder.Write(_folder, scored, Source);
        var (read, _) = ResultFolder.Read(_folder);

        Assert.Equal(scored.LeafOfImage, read.LeafOfImage);
        Assert.Equal(scored.MergeTree.PointCount, read.MergeTree.PointCount);
        Assert.Equal(scored.Images.Select(i => i.AnomalyScore), read.Images.Select(i => i.AnomalyScore));
        Assert.Equal(scored.Images.Select(i => i.ContentSha256), read.Images.Select(i => i.ContentSha256));
        Assert.Equal(7.5, read.AnomalyThreshold);
        Assert.Equal(ClusteringAlgorithm.TwoStageWard, read.Algorithm);
        Assert.Equal("requested", read.AlgorithmReason);
        Assert.Equal(scored.ClusterCountChoice!.ClusterCount, read.ClusterCountChoice!.ClusterCount);
        Assert.Equal(scored.ClusterCountChoice.Curve.Count, read.ClusterCountChoice.Curve.Count);
        // The re-read tree cuts every image into the cluster it was written with.
        Assert.Equal(scored.Images.Select(i => i.Cluster), read.ClusterTree.CutToClusters(read.ClusterCountChoice.ClusterCount));
    }

    [Fact]
    public void ImageRowsOfSeveralRowGroupsReadBackWholeAndOneGroupAtATime()
    {
        // 70,000 rows: two Parquet row groups (65,536 rows each at most), written from one set of column buffers.
        const int count = 70_000;
        var leaves = Enumerable.Range(0, count).Select(i => i % 4).ToArray();
        var images = Enumerable.Range(0, count).Select(i => new ClusteredImage($"img-{i:D6}", leaves[i] / 2, i % 5 == 0 ? null : $"c{i % 3}", PatchWeights: null,
            Embedding: [i, -i], AnomalyScore: i % 7 == 0 ? null : i * 0.5)
        {
            ContentSha256 = i % 3 == 0 ? null : $"{i:x64}",
        }).ToArray();
        var tree = MergeTree.FromLinkageArray(new double[,] { { 0, 1, 1, 2 }, { 2, 3, 2, 2 }, { 4, 5, 3, 4 } });
        var result = new ClusteringResult
        {
            Options = new ClusteringJobOptions { ClusterCount = 2 },
            Images = images,
            Errors = [],
            MergeTree = tree,
            LeafOfImage = leaves,
            Algorithm = ClusteringAlgorithm.TwoStageWard,
            EmbeddingDimension = 2,
            Timings = [],
        };

        ResultFolder.Write(_folder, result, Source);
        var path = Path.Combine(_folder, ResultFolder.ImagesFileName);
        var whole = ResultFolder.ReadImages(path);
        var groups = new List<IReadOnlyList<ImageRow>>();
        ResultFolder.ReadImages(path, groups.Add);

        var centres = ClusterCentres.Of(result);
        Assert.Equal(
            images.Select((image, i) => (image.Id, image.Cluster, image.Label, centres.Distances[i], (int?)leaves[i], image.AnomalyScore, image.ContentSha256)),
            whole.Select(row => (row.Id, row.Cluster, row.Label, row.DistanceToCentre, row.Leaf, row.AnomalyScore, row.ContentSha256)));
        Assert.Equal([65_536, count - 65_536], groups.Select(group => group.Count));
        Assert.Equal(whole, groups.SelectMany(group => group));
    }

    [Fact]
    public void TheReportDigestKeepsEachClustersNearestAndMostAnomalousRowsTheTotalsAndTheTreeTop()
    {
        var clustered = Clustered(900, labelled: true, withAlpha: false);
        var result = clustered with
        {
            Images = clustered.Images.Select((image, i) => image with { AnomalyScore = (i * 7919 % 1000) / 10.0 }).ToArray(),
            Errors = Enumerable.Range(0, 230).Select(i => new ImageError($"bad{i}.png", $"/data/bad{i}.png", "corrupt", "not an image")).ToArray(),
        };
        var indices = Enumerable.Range(0, 900).Select(i => 10_000 + i).ToArray();

        ResultFolder.Write(_folder, result, Source, ClusterCentres.Of(result), embeddings: null, indices);
        ReportDigest digest;
        using (var stream = File.OpenRead(Path.Combine(_folder, ReportDigest.FileName)))
        {
            digest = ReportDigest.Read(stream);
        }

        var distances = ClusterCentres.Of(result).Distances;
        for (var c = 0; c < 3; c++)
        {
            var members = Enumerable.Range(0, 900).Where(i => result.Images[i].Cluster == c).ToArray();
            var kept = digest.Rows.Where(row => row.Cluster == c).Select(row => row.Index).ToHashSet();
            // Its 240 nearest to the centre and its 240 highest scores, no other row.
            var nearest = members.OrderBy(i => distances[i]).ThenBy(i => i).Take(ReportDigest.DefaultRowsPerList);
            var highest = members.OrderBy(i => distances[i]).ThenBy(i => i).OrderByDescending(i => result.Images[i].AnomalyScore).Take(ReportDigest.DefaultRowsPerList);
            Assert.Equal(nearest.Union(highest).Order(), kept.Order());
            Assert.Equal(members.Length, digest.Clusters.Single(cluster => cluster.Cluster == c).Size);
        }
        Assert.All(digest.Rows, row => Assert.Equal(10_000 + row.Index, row.ImageIndex));
        Assert.All(digest.Rows, row => Assert.Equal(result.Images[row.Index].Id, row.Id));
        Assert.Equal(900, digest.ImageCount);
        Assert.Equal(900, digest.Histogram!.Good.Sum() + digest.Histogram.Other.Sum());
        Assert.Equal(230, digest.ErrorCount);
        Assert.Equal(ReportDigest.DefaultErrorRows, digest.Errors.Count);
        // The tree's last 120 rows (the 119 merges over 120 drawn leaves and the row below them), as linkage.npy has them.
        Assert.Equal(result.MergeTree.LinkageMatrix.Skip(899 - 120), digest.Tree.Rows);
        // The whole result's metrics, and each cluster's label matched for F1.
        Assert.Equal(result.Scores!.NormalizedMutualInformation, digest.Metrics!.NormalizedMutualInformation);
        Assert.Equal(result.Scores.AdjustedRandIndex, digest.Metrics.AdjustedRandIndex);
        Assert.Equal(result.Scores.HungarianF1, digest.Metrics.HungarianF1);
        Assert.Equal(3, digest.Metrics.MatchedLabels.Count);

        // The result a report shows from the summary and the digest: the digest's rows and a tree over the top.
        using var summary = File.OpenRead(Path.Combine(_folder, ResultFolder.SummaryFileName));
        var (forReport, _) = ResultFolder.ReadForReport(summary, digest);
        Assert.Equal(digest.Rows.Select(row => row.Id), forReport.Images.Select(image => image.Id));
        Assert.Equal(3, forReport.ClusterCount);
        Assert.Equal(digest.Tree.Rows.Count + 1, forReport.MergeTree.PointCount);
        // Its own images are only the digest's rows: the whole result's metrics are the digest's, not recomputed from them.
        Assert.Null(forReport.Scores);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheDigestsBranchesAreTheClustersOfTheCutIntoAsManyClusters(bool twoStage)
    {
        // Exact Ward on 900 points (tree over images), or two-stage Ward with more points than micro-clusters (tree over
        // micro-clusters): the subtrees the tree top joins, counted from the digest alone, must be the whole tree's cut.
        var count = twoStage ? TwoStageWard.DefaultMicroClusterCount + 700 : 900;
        var points = Points(count, out var labels);
        var ids = Enumerable.Range(0, count).Select(i => $"images/{i:D5}.png").ToArray();
        var options = new ClusteringJobOptions { ClusterCount = 3, Algorithm = twoStage ? ClusteringAlgorithm.TwoStageWard : null };
        var result = EmbeddingClustering.Run(points, count, 3, ids, labels, options, patchWeights: null, progress: null);
        Assert.Equal(twoStage, result.LeafOfImage is not null);

        ResultFolder.Write(_folder, result, Source);
        ReportDigest digest;
        using (var stream = File.OpenRead(Path.Combine(_folder, ReportDigest.FileName)))
        {
            digest = ReportDigest.Read(stream);
        }

        var branches = digest.Tree.Branches!;
        // The top keeps 120 rows (the 119 merges over 120 drawn leaves and the row below them), which join 121 subtrees.
        Assert.Equal(digest.Tree.Rows.Count + 1, branches.Count);
        Assert.Equal(ReportDigest.DefaultTreeLeaves + 1, branches.Count);
        // In order of their first image, numbered as the cut numbers its clusters: branch b is cluster b of the cut into B.
        var cut = result.ClusterTree.CutToClusters(branches.Count);
        Assert.Equal(branches.Count, cut.Max() + 1);
        for (var b = 0; b < branches.Count; b++)
        {
            var members = Enumerable.Range(0, count).Where(i => cut[i] == b).ToArray();
            Assert.Equal(members.Length, branches[b].Size);
            Assert.Equal(members[0], branches[b].FirstImage);
            var expectedLabels = members.GroupBy(i => labels[i]).Select(g => KeyValuePair.Create(g.Key, g.Count()))
                .OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal);
            Assert.Equal(expectedLabels, branches[b].LabelCounts);
        }
        // At the result's K every branch lies in one cluster, and their sums are the clusters' totals.
        Assert.All(branches, branch => Assert.NotEqual(-1, digest.Tree.ClusterOfNode[branch.Node]));
        var sizes = branches.GroupBy(branch => digest.Tree.ClusterOfNode[branch.Node]).ToDictionary(g => g.Key, g => g.Sum(branch => branch.Size));
        Assert.All(digest.Clusters, cluster => Assert.Equal(cluster.Size, sizes[cluster.Cluster]));
    }

    [Fact]
    public void AReportDigestOfAnotherFormatIsAnInvalidDataError()
    {
        using var stream = new MemoryStream("{\"format\":\"report-digest-v0\",\"imageCount\":1}"u8.ToArray());
        Assert.Throws<InvalidDataException>(() => ReportDigest.Read(stream));
        using var garbage = new MemoryStream("not json"u8.ToArray());
        Assert.Throws<InvalidDataException>(() => ReportDigest.Read(garbage));
    }

    [Fact]
    public void TheDocumentNotAStaleParquetFileDecidesTheForm()
    {
        var result = Clustered(12, labelled: true, withAlpha: false);
        ResultFolder.Write(_folder, Clustered(30, labelled: false, withAlpha: false), Source);
        // An earlier run's folder, then a full document written over its result.json.
        using (var stream = File.Create(Path.Combine(_folder, ResultFolder.SummaryFileName)))
        {
            ClusteringResultJson.Write(stream, result, Source);
        }

        var (read, _) = ResultFolder.ReadResultFile(Path.Combine(_folder, ResultFolder.SummaryFileName));

        Assert.Equal(result.Images.Select(i => i.Id), read.Images.Select(i => i.Id));
    }

    [Fact]
    public void ADocumentOfAnotherVersionIsAnInvalidDataError()
    {
        var path = Path.Combine(_folder, "full.json");
        using (var stream = File.Create(path))
        {
            ClusteringResultJson.Write(stream, Clustered(12, labelled: true, withAlpha: false), Source);
        }
        var timings = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        timings["timingsSeconds"]!.AsObject()["stage-of-a-later-version"] = 1.0;
        File.WriteAllText(path, timings.ToJsonString());

        Assert.Throws<InvalidDataException>(() => ResultFolder.ReadResultFile(path));
    }

    [Fact]
    public void ImageRowsHoldTheDistanceToTheClusterCentroid()
    {
        var result = Clustered(30, labelled: false, withAlpha: false);
        ResultFolder.Write(_folder, result, Source);

        var rows = ResultFolder.ReadImages(Path.Combine(_folder, ResultFolder.ImagesFileName));

        Assert.Equal(30, rows.Count);
        Assert.All(rows, row => Assert.Null(row.Label));
        for (var i = 0; i < rows.Count; i++)
        {
            var members = result.Images.Where(image => image.Cluster == rows[i].Cluster).ToArray();
            var centroid = Enumerable.Range(0, result.EmbeddingDimension).Select(d => members.Average(m => (double)m.Embedding![d])).ToArray();
            var expected = Math.Sqrt(centroid.Select((c, d) => Math.Pow(result.Images[i].Embedding![d] - c, 2)).Sum());
            Assert.Equal(expected, rows[i].DistanceToCentre, 4);
        }
        // No alpha maps for precomputed embeddings: no alpha file.
        Assert.False(File.Exists(Path.Combine(_folder, ResultFolder.AlphaFileName)));
    }

    [Fact]
    public void TheSummaryDoesNotGrowWithTheNumberOfImages()
    {
        var small = SummaryBytes(Clustered(200, labelled: true, withAlpha: true));
        var large = SummaryBytes(Clustered(4_000, labelled: true, withAlpha: true));

        // Same K and classes, both beyond the merges kept: only digits of counts and heights may differ.
        Assert.InRange(large, small - 200, small + 200);
        using var summary = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_folder, ResultFolder.SummaryFileName)));
        var root = summary.RootElement;
        Assert.Equal(ResultFolder.SummaryFormat, root.GetProperty("format").GetString());
        Assert.False(root.TryGetProperty("images", out _));
        Assert.Equal(ClusteringResultJson.SummaryMergeCount, root.GetProperty("mergeTreeTop").GetProperty("linkage").GetArrayLength());
        Assert.All(root.GetProperty("clusters").EnumerateArray(), cluster => Assert.False(string.IsNullOrEmpty(cluster.GetProperty("centreImage").GetString())));
    }

    [Fact]
    public void AFullDocumentReaderRefusesASummaryWithAMessageThatSaysWhatToDo()
    {
        ResultFolder.Write(_folder, Clustered(10, labelled: false, withAlpha: false), Source);
        using var stream = File.OpenRead(Path.Combine(_folder, ResultFolder.SummaryFileName));
        var error = Assert.Throws<InvalidDataException>(() => ClusteringResultJson.Read(stream));
        Assert.Contains(nameof(ResultFolder), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingFileIsAnInvalidDataError()
    {
        ResultFolder.Write(_folder, Clustered(10, labelled: false, withAlpha: false), Source);
        File.Delete(Path.Combine(_folder, ResultFolder.LinkageFileName));
        var error = Assert.Throws<InvalidDataException>(() => ResultFolder.Read(_folder));
        Assert.Contains(_folder, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NumPyAndSciPyReadTheArrays()
    {
        if (!PythonHas("numpy") || !PythonHas("scipy"))
        {
            Assert.Skip("/usr/bin/python3 with numpy and scipy is needed to read the .npy files the way users do.");
        }
        var result = Clustered(25, labelled: false, withAlpha: true);
        ResultFolder.Write(_folder, result, Source);

        // SciPy's own cut of the written linkage matrix must give our clusters (up to relabelling), and the arrays their shapes.
        var script = string.Join('\n',
            "import sys, numpy as np",
            "from scipy.cluster.hierarchy import fcluster",
            "folder = sys.argv[1]",
            "z = np.load(folder + '/linkage.npy'); x = np.load(folder + '/embeddings.npy'); a = np.load(folder + '/alpha.npy')",
            "assert z.dtype == np.float64 and z.shape == (24, 4), z.shape",
            "assert x.dtype == np.float32 and x.shape == (25, 3), x.shape",
            "assert a.shape == (25, 6) and np.allclose(a.sum(axis=1), 1, atol=1e-5)",
            "print(' '.join(str(c) for c in fcluster(z, 3, criterion='maxclust')))");
        var output = RunPython(script, _folder);

        var scipy = output.Trim().Split(' ').Select(int.Parse).ToArray();
        var ours = result.Images.Select(image => image.Cluster).ToArray();
        for (var i = 0; i < ours.Length; i++)
        {
            for (var j = 0; j < ours.Length; j++)
            {
                Assert.Equal(ours[i] == ours[j], scipy[i] == scipy[j]);
            }
        }
    }

    [Fact]
    public void PyArrowReadsTheImageRowsWhenItIsInstalled()
    {
        if (!PythonHas("pyarrow"))
        {
            Assert.Skip("pyarrow is not installed for /usr/bin/python3 (Debian's pandas has no Parquet engine); Parquet.Net's read-back covers the format.");
        }
        ResultFolder.Write(_folder, Clustered(12, labelled: true, withAlpha: false), Source);
        var output = RunPython("import sys, pyarrow.parquet as pq\nt = pq.read_table(sys.argv[1] + '/images.parquet')\nprint(t.num_rows, ','.join(t.column_names))", _folder);
        Assert.Equal("12 id,cluster,label,distance_to_centre", output.Trim());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private long SummaryBytes(ClusteringResult result)
    {
        ResultFolder.Write(_folder, result, Source);
        return new FileInfo(Path.Combine(_folder, ResultFolder.SummaryFileName)).Length;
    }

    /// <summary>N points in D = 3 around three centres, seeded, with their labels by centre.</summary>
    private static float[] Points(int count, out string[] labels)
    {
        var random = new Random(7);
        var points = new float[count * 3];
        string[] kinds = ["crack", "hole", "stain"];
        labels = new string[count];
        for (var i = 0; i < count; i++)
        {
            var kind = i % 3;
            labels[i] = kinds[kind];
            for (var d = 0; d < 3; d++)
            {
                points[3 * i + d] = (d == kind ? 5f : 0f) + (float)random.NextDouble();
            }
        }
        return points;
    }

    /// <summary>N points in D = 3 around three centres, seeded; labels by centre; a 2 x 3 alpha grid when asked.</summary>
    private static ClusteringResult Clustered(int count, bool labelled, bool withAlpha)
    {
        var random = new Random(8);
        var points = Points(count, out var labels);
        var alpha = withAlpha
            ? Enumerable.Range(0, count).Select(_ => { var w = Enumerable.Range(0, 6).Select(_ => (float)random.NextDouble() + 0.01f).ToArray(); var s = w.Sum(); return w.Select(v => v / s).ToArray(); }).ToArray()
            : null;
        var ids = Enumerable.Range(0, count).Select(i => $"images/{i:D5}.png").ToArray();
        var result = EmbeddingClustering.Run(points, count, 3, ids, labelled ? labels : null, new ClusteringJobOptions { ClusterCount = 3, Linkage = LinkageMethod.Ward }, alpha, progress: null);
        return withAlpha ? result with { PatchGridHeight = 2, PatchGridWidth = 3 } : result;
    }

    private static bool PythonHas(string module)
    {
        try
        {
            RunPython($"import {module}", ".");
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static string RunPython(string script, string argument)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"python3 failed ({process.ExitCode}): {stderr.Result}");
        }
        return stdout;
    }
}
