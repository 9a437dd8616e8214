using System.Text.Json;
using System.Text.Json.Serialization;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Metrics;

namespace AnomalyClustering.Jobs;

/// <summary>One image row a report may picture (a row of images.parquet, with its index there).</summary>
/// <param name="Index">The row's index in the result's image order.</param>
/// <param name="Id">The image id.</param>
/// <param name="Cluster">Its cluster.</param>
/// <param name="Label">Its ground-truth label, or null.</param>
/// <param name="Distance">Its distance to the cluster's centre as recorded (NaN without embeddings).</param>
/// <param name="Score">Its anomaly score, or null.</param>
/// <param name="ContentSha256">The SHA-256 of its file, or null.</param>
public sealed record ReportDigestRow(int Index, string Id, int Cluster, string? Label, double Distance, double? Score, string? ContentSha256)
{
    /// <summary>The image's index in its job's manifest (where its file and outcome are found); null outside jobs.</summary>
    public int? ImageIndex { get; init; }
}

/// <summary>One cluster's totals: its size and its label counts, most frequent first (as <see cref="ClusterSummary"/>).</summary>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Size">Number of images.</param>
/// <param name="LabelCounts">Images per label, most frequent first; empty without labels.</param>
public sealed record ReportDigestCluster(int Cluster, int Size, IReadOnlyList<KeyValuePair<string, int>> LabelCounts);

/// <summary>The anomaly-score histogram's bins over every image (<see cref="ScoreHistogram"/>) and how many score above the threshold.</summary>
public sealed record ReportDigestHistogram(int[] Good, int[] Other, double Min, double Max, bool Labelled, int AboveThreshold);

/// <summary>NMI, ARI and F1 of the whole result against its labels, and the label each cluster is matched to for F1 (Hungarian matching).</summary>
public sealed record ReportDigestMetrics(double NormalizedMutualInformation, double AdjustedRandIndex, double HungarianF1, IReadOnlyDictionary<int, string> MatchedLabels);

/// <summary>
/// One of the subtrees the top of the merge tree joins (a child of a kept row that no kept row makes): what a cut of the
/// tree top into at most as many clusters as there are branches adds up, without a row per image.
/// </summary>
/// <param name="Node">The subtree's node in the tree (SciPy numbering: a point below N, linkage row N + r above).</param>
/// <param name="Size">Its images (for a two-stage tree, the images of its micro-clusters).</param>
/// <param name="FirstImage">Its first image in result order: clusters of a cut are numbered in order of their first image.</param>
/// <param name="LabelCounts">Its images per label, most frequent first (ties by label); empty without labels.</param>
public sealed record ReportDigestBranch(int Node, int Size, int FirstImage, IReadOnlyList<KeyValuePair<string, int>> LabelCounts);

/// <summary>
/// The top of the merge tree: linkage rows <see cref="FirstRow"/> .. N-2 (SciPy numbering), and for every node they
/// touch its flat cluster (-1 when its images are in several) and size, and the image id of each touched point.
/// </summary>
public sealed record ReportDigestTree(
    int PointCount, int FirstRow, IReadOnlyList<MergeStep> Rows, IReadOnlyDictionary<int, int> ClusterOfNode, IReadOnlyDictionary<int, int> SizeOfNode,
    IReadOnlyDictionary<int, string> PointIds)
{
    /// <summary>
    /// The subtrees the kept rows join, in order of their first image, with their image and label counts: the page re-cuts
    /// the tree top into up to this many clusters from them at any N. Null in digests written before they were kept.
    /// </summary>
    public IReadOnlyList<ReportDigestBranch>? Branches { get; init; }

    /// <summary>Linkage row <paramref name="row"/> (full numbering; at least <see cref="FirstRow"/>).</summary>
    public MergeStep Row(int row) => Rows[row - FirstRow];

    /// <summary>
    /// The top of <paramref name="tree"/> that draws <paramref name="leaves"/> leaves: rows N-leaves-1 .. N-2 (the drawn merges
    /// and the row below them, between which the cut into K = leaves clusters lies), with the flat cluster of every node they
    /// touch (<paramref name="clusterOfLeaf"/> for the tree's points; -1 for a node whose points span several), its size, and
    /// <paramref name="pointId"/> of each touched point (null: none). O(N) time, O(leaves) kept.
    /// </summary>
    /// <exception cref="ArgumentException">The cluster list does not have one entry per point of the tree.</exception>
    public static ReportDigestTree Of(MergeTree tree, IReadOnlyList<int> clusterOfLeaf, int leaves, Func<int, string?>? pointId = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(clusterOfLeaf);
        var n = tree.PointCount;
        if (clusterOfLeaf.Count != n)
        {
            throw new ArgumentException($"{clusterOfLeaf.Count} cluster labels for {n} points.", nameof(clusterOfLeaf));
        }
        var steps = tree.LinkageMatrix;
        var firstRow = Math.Max(0, n - leaves - 1);
        var clusterOfNode = new int[Math.Max(1, 2 * n - 1)];
        for (var i = 0; i < n; i++)
        {
            clusterOfNode[i] = clusterOfLeaf[i];
        }
        for (var r = 0; r < steps.Count; r++)
        {
            var (left, right) = (clusterOfNode[steps[r].Left], clusterOfNode[steps[r].Right]);
            clusterOfNode[n + r] = left == right ? left : -1;
        }
        var touched = new Dictionary<int, int>();
        var sizes = new Dictionary<int, int>();
        var pointIds = new Dictionary<int, string>();
        for (var r = firstRow; r < steps.Count; r++)
        {
            foreach (var node in new[] { steps[r].Left, steps[r].Right, n + r })
            {
                touched[node] = clusterOfNode[node];
                sizes[node] = node < n ? 1 : steps[node - n].Size;
                if (node < n && pointId?.Invoke(node) is { } id)
                {
                    pointIds[node] = id;
                }
            }
        }
        return new ReportDigestTree(n, firstRow, steps.Skip(firstRow).ToList(), touched, sizes, pointIds);
    }
}

/// <summary>
/// What a report of a result shows, bounded whatever N is (<c>report-digest.json</c> beside result.json): per cluster its
/// <see cref="RowsPerList"/> rows nearest to the centre and its <see cref="RowsPerList"/> highest-scoring rows, every
/// cluster's size and label counts, the score histogram's bins, the detection scores, the first errors and their count,
/// and the top <see cref="TreeLeaves"/> merges of the tree. A served report renders from result.json and this alone:
/// O(K x M + top of the tree) bytes read, not images.parquet, errors.parquet and linkage.npy.
/// </summary>
/// <remarks>Built in O(N log N) time from the whole result when it is written.</remarks>
public sealed record ReportDigest
{
    /// <summary>The digest's file name in a result folder.</summary>
    public const string FileName = "report-digest.json";

    /// <summary>The <c>format</c> value this version writes.</summary>
    public const string CurrentFormat = "report-digest-v1";

    /// <summary>Rows kept per cluster and order: the report's largest gallery page budget (ReportOptions.MaxImagesPerCluster at most).</summary>
    public const int DefaultRowsPerList = 240;

    /// <summary>Errors kept: the report's error table (ReportOptions.MaxErrorRows at most).</summary>
    public const int DefaultErrorRows = 200;

    /// <summary>Leaves of the drawn dendrogram kept (ReportOptions.MaxDendrogramLeaves at most; K when larger).</summary>
    public const int DefaultTreeLeaves = 120;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Always <see cref="CurrentFormat"/> for a digest this version reads.</summary>
    public string Format { get; init; } = CurrentFormat;

    /// <summary>Images clustered (N).</summary>
    public required int ImageCount { get; init; }

    /// <summary>Rows kept per cluster and order.</summary>
    public required int RowsPerList { get; init; }

    /// <summary>Leaves of the dendrogram the tree top can draw.</summary>
    public required int TreeLeaves { get; init; }

    /// <summary>The rows some gallery may show, ascending by <see cref="ReportDigestRow.Index"/>.</summary>
    public required IReadOnlyList<ReportDigestRow> Rows { get; init; }

    /// <summary>Every non-empty cluster's totals, largest first (ties by index).</summary>
    public required IReadOnlyList<ReportDigestCluster> Clusters { get; init; }

    /// <summary>The score histogram; null unless every image has a score.</summary>
    public ReportDigestHistogram? Histogram { get; init; }

    /// <summary>Image AUROC and counts over every image; null as in <see cref="ImageDetection.Evaluate"/>.</summary>
    public DetectionScores? Detection { get; init; }

    /// <summary>The clusters against the labels over every image; null unless every image has a label.</summary>
    public ReportDigestMetrics? Metrics { get; init; }

    /// <summary>Images that could not be used.</summary>
    public required int ErrorCount { get; init; }

    /// <summary>The first of them, in result order.</summary>
    public required IReadOnlyList<ImageError> Errors { get; init; }

    /// <summary>The top of the merge tree.</summary>
    public required ReportDigestTree Tree { get; init; }

    /// <summary>
    /// The digest of <paramref name="result"/>, whose images' distances to their centres are <paramref name="distances"/>
    /// and whose manifest indices are <paramref name="imageIndices"/> (null outside jobs). <paramref name="rowsPerList"/> 0
    /// keeps no rows (a report of the whole result needs only the totals).
    /// </summary>
    public static ReportDigest Of(
        ClusteringResult result, IReadOnlyList<double> distances, IReadOnlyList<int>? imageIndices = null,
        int rowsPerList = DefaultRowsPerList, int treeLeaves = DefaultTreeLeaves, int errorRows = DefaultErrorRows)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentOutOfRangeException.ThrowIfNegative(rowsPerList);
        ArgumentOutOfRangeException.ThrowIfLessThan(treeLeaves, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(errorRows);
        var images = result.Images;
        var members = Enumerable.Range(0, result.ClusterCount).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < images.Count; i++)
        {
            members[images[i].Cluster].Add(i);
        }
        var kept = new SortedSet<int>();
        var hasScores = images.Count > 0 && images.All(image => image.AnomalyScore is not null);
        foreach (var indices in rowsPerList == 0 ? [] : members)
        {
            // Nearest first, ties by index: the order of the report's galleries and of the API's cluster pages.
            var typical = indices.OrderBy(i => Finite(distances[i])).ThenBy(i => i).ToList();
            kept.UnionWith(typical.Take(rowsPerList));
            if (hasScores)
            {
                // Highest first, ties in gallery order: the page's "highest anomaly score first".
                kept.UnionWith(typical.OrderByDescending(i => images[i].AnomalyScore!.Value).Take(rowsPerList));
            }
        }
        var rows = kept.Select(i => new ReportDigestRow(i, images[i].Id, images[i].Cluster, images[i].Label, distances[i], images[i].AnomalyScore, images[i].ContentSha256)
        {
            ImageIndex = imageIndices?[i],
        }).ToList();
        var clusters = ClusterSummary.Of(result, examples: 0).Select(summary => new ReportDigestCluster(summary.Cluster, summary.Size, summary.LabelCounts)).ToList();
        ReportDigestHistogram? histogram = null;
        if (hasScores)
        {
            var scores = images.Select(image => image.AnomalyScore!.Value).ToArray();
            var labelled = images.All(image => image.Label is not null);
            var bins = ScoreHistogram.Of(scores, labelled ? images.Select(image => image.Label == ImageDetection.GoodLabel).ToArray() : null);
            var above = result.AnomalyThreshold is { } threshold ? scores.Count(s => s > threshold) : 0;
            histogram = new ReportDigestHistogram(bins.Good, bins.Other, bins.Min, bins.Max, labelled, above);
        }
        return new ReportDigest
        {
            ImageCount = images.Count,
            RowsPerList = rowsPerList,
            TreeLeaves = treeLeaves,
            Rows = rows,
            Clusters = clusters,
            Histogram = histogram,
            // As a result read back computes them (ResultHead.ToResult), so that both reports show the same.
            Detection = ImageDetection.Evaluate(images, result.AnomalyThreshold),
            Metrics = MetricsOf(result.Scores ?? ScoresOf(images)),
            ErrorCount = result.Errors.Count,
            Errors = result.Errors.Take(errorRows).ToList(),
            Tree = TreeTop(result, Math.Max(treeLeaves, result.ClusterCount)),
        };
    }

    /// <summary>Writes the digest as JSON.</summary>
    public void Write(Stream stream) => JsonSerializer.Serialize(stream, this, Json);

    /// <summary>Reads a digest written by <see cref="Write"/>.</summary>
    /// <exception cref="InvalidDataException">It is not one (or of another format).</exception>
    public static ReportDigest Read(Stream stream)
    {
        try
        {
            var digest = JsonSerializer.Deserialize<ReportDigest>(stream, Json) ?? throw new InvalidDataException("an empty report digest.");
            return digest.Format == CurrentFormat ? digest : throw new InvalidDataException($"a report digest of format '{digest.Format}'; this version reads '{CurrentFormat}'.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not a report digest: {e.Message}", e);
        }
    }

    // A result clustered with labels or read back carries its scores; one whose labels were set afterwards is evaluated
    // here, as ResultHead.ToResult would on reading it back, so that both reports show the same. O(N) only then.
    private static ClusteringScores? ScoresOf(IReadOnlyList<ClusteredImage> images) =>
        images.Count == 0 || images.Any(image => image.Label is null)
            ? null
            : ClusteringMetrics.Evaluate(images.Select(image => image.Label!).ToArray(), images.Select(image => image.Cluster).ToArray());

    // The metrics and the F1 matching by cluster, as the report's summary and confusion matrix show them.
    private static ReportDigestMetrics? MetricsOf(ClusteringScores? scores)
    {
        if (scores is null)
        {
            return null;
        }
        var table = scores.Contingency;
        var matched = new Dictionary<int, string>();
        for (var column = 0; column < table.ClusterCount; column++)
        {
            var row = scores.Matching.ClassIndexOf(column);
            if (row >= 0)
            {
                matched[table.Clusters[column]] = table.ClassEncoding.Names[row];
            }
        }
        return new ReportDigestMetrics(scores.NormalizedMutualInformation, scores.AdjustedRandIndex, scores.HungarianF1, matched);
    }

    // NaN distances (no embeddings) sort last and keep dataset order among themselves.
    private static double Finite(double distance) => double.IsFinite(distance) ? distance : double.PositiveInfinity;

    private static ReportDigestTree TreeTop(ClusteringResult result, int leaves)
    {
        var top = ReportDigestTree.Of(result.MergeTree, ClusterOfTreeLeaf(result), leaves, point => point < result.Images.Count ? result.Images[point].Id : null);
        return top with { Branches = BranchesOf(result, top) };
    }

    /// <summary>
    /// The subtrees <paramref name="top"/>'s rows join, with their images and label counts, in order of their first image.
    /// Every node below the kept rows lies in exactly one of them, so each image is counted once. O(N) time, O(N) memory
    /// for the walk (one int per node), O(branches x labels) kept.
    /// </summary>
    private static List<ReportDigestBranch> BranchesOf(ClusteringResult result, ReportDigestTree top)
    {
        var n = top.PointCount;
        var steps = result.MergeTree.LinkageMatrix;
        var firstMadeByTop = n + top.FirstRow;
        var branchOfNode = new int[Math.Max(1, 2 * n - 1)];
        Array.Fill(branchOfNode, -1);
        var branchNodes = new List<int>();
        if (steps.Count == 0)
        {
            // One point: the tree is that point.
            branchNodes.Add(0);
            branchOfNode[0] = 0;
        }
        for (var r = top.FirstRow; r < steps.Count; r++)
        {
            foreach (var child in new[] { steps[r].Left, steps[r].Right })
            {
                if (child < firstMadeByTop)
                {
                    branchOfNode[child] = branchNodes.Count;
                    branchNodes.Add(child);
                }
            }
        }
        // A row's children are made earlier than the row, so walking down from the highest row below the top reaches
        // every node after its parent.
        for (var r = top.FirstRow - 1; r >= 0; r--)
        {
            var branch = branchOfNode[n + r];
            branchOfNode[steps[r].Left] = branch;
            branchOfNode[steps[r].Right] = branch;
        }
        var sizes = new int[branchNodes.Count];
        var firstImages = new int[branchNodes.Count];
        Array.Fill(firstImages, int.MaxValue);
        var labelCounts = branchNodes.Select(_ => new Dictionary<string, int>(StringComparer.Ordinal)).ToArray();
        var leafOfImage = result.LeafOfImage;
        for (var i = 0; i < result.Images.Count; i++)
        {
            var branch = branchOfNode[leafOfImage?[i] ?? i];
            sizes[branch]++;
            firstImages[branch] = Math.Min(firstImages[branch], i);
            if (result.Images[i].Label is { } label)
            {
                // One lookup per image: this runs over every image when a job's result is written.
                System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(labelCounts[branch], label, out _)++;
            }
        }
        return Enumerable.Range(0, branchNodes.Count)
            .Select(b => new ReportDigestBranch(
                branchNodes[b], sizes[b], firstImages[b],
                labelCounts[b].OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal).ToList()))
            .OrderBy(branch => branch.FirstImage)
            .ToList();
    }

    /// <summary>The cluster of each leaf of the merge tree: the images, or for a two-stage tree its micro-clusters.</summary>
    public static int[] ClusterOfTreeLeaf(ClusteringResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.LeafOfImage is not { } leafOfImage)
        {
            return result.Images.Select(i => i.Cluster).ToArray();
        }
        var clusterOfLeaf = new int[result.MergeTree.PointCount];
        for (var i = 0; i < leafOfImage.Count; i++)
        {
            clusterOfLeaf[leafOfImage[i]] = result.Images[i].Cluster;
        }
        return clusterOfLeaf;
    }
}
