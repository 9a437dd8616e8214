using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Core.Interop;
using AnomalyClustering.Core.Metrics;
using AnomalyClustering.Core.Validation;
using Parquet;
using Parquet.Schema;

namespace AnomalyClustering.Jobs;

/// <summary>What a result summary holds besides the per-image data: everything <see cref="ClusteringResult"/> needs but its images, errors and tree.</summary>
internal sealed record ResultHead(
    ClusteringJobOptions Options, int PatchGridHeight, int PatchGridWidth, int EmbeddingDimension,
    IReadOnlyList<string> ClassNames, IReadOnlyList<StageTiming> Timings, ClusterNames Names)
{
    /// <summary>The algorithm that built the tree.</summary>
    public ClusteringAlgorithm Algorithm { get; init; } = ClusteringAlgorithm.DistanceMatrix;

    /// <summary>Why that algorithm ran; null in documents written before it was recorded.</summary>
    public string? AlgorithmReason { get; init; }

    /// <summary>How K was found, when the job found it.</summary>
    public ClusterCountChoice? ClusterCountChoice { get; init; }

    /// <summary>The label-free detection threshold on image anomaly scores, when the job had normal images to set it.</summary>
    public double? AnomalyThreshold { get; init; }

    /// <summary>The good group of a detect-then-cluster job, when it had one.</summary>
    public DetectedGoodGroup? DetectedGood { get; init; }

    /// <summary>Pixel AUROC and PRO against ground-truth masks, when the result had them (they cannot be recomputed from the files).</summary>
    public PixelDetectionScores? PixelDetection { get; init; }

    /// <summary>The result's warnings (none in documents written before they were recorded).</summary>
    public IReadOnlyList<ResultWarning> Warnings { get; init; } = [];

    /// <summary>
    /// The result with these settings and the given per-image data (<paramref name="leafOfImage"/>: each image's
    /// micro-cluster for two-stage trees, else null); the metrics recomputed from the labels.
    /// </summary>
    public ClusteringResult ToResult(IReadOnlyList<ClusteredImage> images, IReadOnlyList<ImageError> errors, MergeTree tree, IReadOnlyList<int>? leafOfImage)
    {
        var labelled = images.Count > 0 && images.All(image => image.Label is not null);
        return new ClusteringResult
        {
            Options = Options,
            Images = images,
            Errors = errors,
            MergeTree = tree,
            LeafOfImage = leafOfImage,
            Algorithm = Algorithm,
            AlgorithmReason = AlgorithmReason,
            ClusterCountChoice = ClusterCountChoice,
            AnomalyThreshold = AnomalyThreshold,
            DetectedGood = DetectedGood,
            Detection = ImageDetection.Evaluate(images, AnomalyThreshold),
            PixelDetection = PixelDetection,
            PatchGridHeight = PatchGridHeight,
            PatchGridWidth = PatchGridWidth,
            EmbeddingDimension = EmbeddingDimension,
            Scores = labelled ? ClusteringMetrics.Evaluate(images.Select(i => i.Label!).ToArray(), images.Select(i => i.Cluster).ToArray()) : null,
            ClassNames = ClassNames,
            Timings = Timings,
            Names = Names,
            Warnings = Warnings,
        };
    }
}

/// <summary>
/// A result as files whose size per image is constant and that common tools read: <c>result.json</c>, a bounded summary
/// (<see cref="ClusteringResultJson.WriteSummary"/>); <c>images.parquet</c>, one row per clustered image (id, cluster,
/// label, distance to the cluster's centroid, anomaly score, the image file's SHA-256); <c>errors.parquet</c>, one row per unusable image; <c>linkage.npy</c>, the
/// whole merge tree as SciPy's linkage matrix ((N-1) x 4 float64); <c>embeddings.npy</c>, the image embeddings x_i
/// (N x D float32); <c>alpha.npy</c>, the alpha maps (N x M float32, row i the map of image i on the alpha grid) when the
/// images came from pixels; <c>report-digest.json</c>, what a report shows, bounded at any N (<see cref="ReportDigest"/>).
/// Rows of every file are in the order of <see cref="ClusteringResult.Images"/>.
/// </summary>
/// <remarks>
/// Writing and reading are O(N (D + M)) time; the summary is O(K C) bytes for K clusters and C classes. Parquet.Net's API
/// is asynchronous only; its calls here run on file streams and are waited on, so that callers stay synchronous.
/// </remarks>
public static class ResultFolder
{
    /// <summary>The summary's file name.</summary>
    public const string SummaryFileName = "result.json";

    /// <summary>The per-image rows' file name.</summary>
    public const string ImagesFileName = "images.parquet";

    /// <summary>The per-image errors' file name.</summary>
    public const string ErrorsFileName = "errors.parquet";

    /// <summary>The merge tree's file name (SciPy linkage matrix).</summary>
    public const string LinkageFileName = "linkage.npy";

    /// <summary>The image embeddings' file name.</summary>
    public const string EmbeddingsFileName = "embeddings.npy";

    /// <summary>The alpha maps' file name.</summary>
    public const string AlphaFileName = "alpha.npy";

    /// <summary>The files beside the summary, in the order they are written (some are absent for some results).</summary>
    public static IReadOnlyList<string> DataFileNames { get; } = [ImagesFileName, ErrorsFileName, LinkageFileName, EmbeddingsFileName, AlphaFileName, ReportDigest.FileName];

    /// <summary>The <c>format</c> value of a summary (a full result document has none).</summary>
    public const string SummaryFormat = "summary-v1";

    /// <summary>Rows per Parquet row group: bounds the writer's buffers at any N.</summary>
    private const int RowGroupSize = 65_536;

    // The column names; every write makes its own field instances (ImageColumns, ErrorColumns): a Parquet.Net field
    // belongs to the schema it is put in, and shared instances let two results written at once (two jobs finishing on one
    // coordinator) re-parent them under each other (a CI run read empty ids back).
    private const string IdColumn = "id";
    private const string ClusterColumn = "cluster";
    private const string LabelColumn = "label";
    private const string DistanceColumn = "distance_to_centre";
    private const string LeafColumn = "leaf";
    private const string AnomalyScoreColumn = "anomaly_score";
    private const string ContentSha256Column = "content_sha256";
    private const string PathColumn = "path";
    private const string ReasonColumn = "reason";
    private const string MessageColumn = "message";
    private const string NormalImageColumn = "normal_image";

    /// <summary>
    /// Writes every file of <paramref name="result"/> into <paramref name="folder"/> (which must exist) and returns the summary's
    /// path. <paramref name="embeddings"/> (N x D, image order), when given, is where x_i is read from: results past
    /// <see cref="EmbeddingClustering.EmbeddingsKeptUpTo"/> images carry no per-image copy.
    /// </summary>
    public static string Write(string folder, ClusteringResult result, ResultSource source, float[]? embeddings = null) =>
        Write(folder, result, source, ClusterCentres.Of(result, embeddings), embeddings);

    /// <summary>
    /// As <see cref="Write(string, ClusteringResult, ResultSource, float[])"/>, with the centres already computed and, for a
    /// job, each image's manifest index (kept in the report digest, so that a report finds its pictured images' files).
    /// </summary>
    public static string Write(string folder, ClusteringResult result, ResultSource source, ClusterCentres centres, float[]? embeddings, IReadOnlyList<int>? imageIndices = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(centres);
        WriteImages(Path.Combine(folder, ImagesFileName), result, centres);
        WriteErrors(Path.Combine(folder, ErrorsFileName), result.Errors);
        File.WriteAllBytes(Path.Combine(folder, LinkageFileName), LinkageArray(result.MergeTree).ToBytes());

        WriteEmbeddings(Path.Combine(folder, EmbeddingsFileName), result, embeddings);
        // No alpha maps for precomputed embeddings: no alpha file.
        WriteRows(Path.Combine(folder, AlphaFileName), result.Images.Select(image => image.PatchWeights).ToArray(), result.PatchGridHeight * result.PatchGridWidth);

        // What a report shows, bounded at any N: a served report reads it instead of the files above.
        using (var digest = File.Create(Path.Combine(folder, ReportDigest.FileName)))
        {
            ReportDigest.Of(result, centres.Distances, imageIndices).Write(digest);
        }

        var summaryPath = Path.Combine(folder, SummaryFileName);
        using (var stream = File.Create(summaryPath))
        {
            ClusteringResultJson.WriteSummary(stream, result, source, centres.CentreImages);
        }
        return summaryPath;
    }

    /// <summary>
    /// The result a report of the summary <paramref name="summary"/> and its <paramref name="digest"/> shows: the digest's
    /// rows as its images (their recorded distances ordering the galleries), its first errors, the top of the tree with
    /// the subtrees below as points, and the detection scores of the whole result (its NMI / ARI / F1 are the digest's
    /// <see cref="ReportDigest.Metrics"/>; <see cref="ClusteringResult.Scores"/> is null). O(K x M + tree top).
    /// </summary>
    /// <exception cref="InvalidDataException">The summary is not one.</exception>
    public static (ClusteringResult Result, ResultSource Source) ReadForReport(Stream summary, ReportDigest digest)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(digest);
        ResultHead head;
        ResultSource source;
        try
        {
            (head, source) = ClusteringResultJson.ReadSummary(summary);
        }
        catch (Exception e) when (ClusteringResultJson.IsMalformed(e))
        {
            throw new InvalidDataException($"cannot read the result summary: {e.Message}", e);
        }
        var images = digest.Rows.Select(row => new ClusteredImage(row.Id, row.Cluster, row.Label, PatchWeights: null, Embedding: null, row.Score)
        {
            DistanceToCentre = double.IsFinite(row.Distance) ? row.Distance : null,
            ContentSha256 = row.ContentSha256,
        }).ToArray();
        var result = head.ToResult(images, digest.Errors, TopOfTree(digest.Tree), leafOfImage: null);
        // The digest's rows are not every image: the whole result's metrics are the digest's (ReportDigest.Metrics), not these.
        return (result with { Scores = null, Detection = digest.Detection }, source);
    }

    /// <summary>The digest's tree top as a tree of its own: the collapsed subtrees (and images) below it are its points, numbered in node order.</summary>
    private static MergeTree TopOfTree(ReportDigestTree top)
    {
        var n = top.PointCount;
        var produced = top.Rows.Count;
        var points = top.ClusterOfNode.Keys.Where(node => node < n + top.FirstRow).Order().ToArray();
        var idOf = points.Select((node, id) => (node, id)).ToDictionary(pair => pair.node, pair => pair.id);
        int Id(int node) => node >= n + top.FirstRow ? points.Length + (node - n - top.FirstRow) : idOf[node];
        var sizes = new int[points.Length + produced];
        Array.Fill(sizes, 1, 0, points.Length);
        var linkage = new double[produced, 4];
        for (var r = 0; r < produced; r++)
        {
            var (left, right) = (Id(top.Rows[r].Left), Id(top.Rows[r].Right));
            sizes[points.Length + r] = sizes[left] + sizes[right];
            (linkage[r, 0], linkage[r, 1], linkage[r, 2], linkage[r, 3]) = (Math.Min(left, right), Math.Max(left, right), top.Rows[r].Height, sizes[points.Length + r]);
        }
        return MergeTree.FromLinkageArray(linkage);
    }

    /// <summary>True when <paramref name="folder"/> holds a result written by <see cref="Write(string, ClusteringResult, ResultSource, float[])"/> (rather than one full result.json).</summary>
    public static bool Holds(string folder) => File.Exists(Path.Combine(folder, ImagesFileName));

    /// <summary>Reads a folder written by <see cref="Write(string, ClusteringResult, ResultSource, float[])"/> back into the result it was written from (metrics recomputed).</summary>
    /// <exception cref="InvalidDataException">A file is missing, is not what this tool writes, or the files disagree.</exception>
    public static (ClusteringResult Result, ResultSource Source) Read(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try
        {
            ResultHead head;
            ResultSource source;
            using (var stream = File.OpenRead(Path.Combine(folder, SummaryFileName)))
            {
                (head, source) = ClusteringResultJson.ReadSummary(stream);
            }
            var rows = ReadImages(Path.Combine(folder, ImagesFileName));
            var errors = ReadErrors(Path.Combine(folder, ErrorsFileName));
            var tree = MergeTree.FromLinkageArray(ReadLinkage(Path.Combine(folder, LinkageFileName)));
            var embeddings = ReadRows(Path.Combine(folder, EmbeddingsFileName), rows.Count, head.EmbeddingDimension);
            var patches = head.PatchGridHeight * head.PatchGridWidth;
            var alpha = patches > 0 ? ReadRows(Path.Combine(folder, AlphaFileName), rows.Count, patches) : null;
            // Without embeddings.npy (a large result fetched for a report) the recorded distances order the galleries.
            var images = rows.Select((row, i) => new ClusteredImage(row.Id, row.Cluster, row.Label, alpha?[i], embeddings?[i], row.AnomalyScore)
            {
                DistanceToCentre = embeddings is null && double.IsFinite(row.DistanceToCentre) ? row.DistanceToCentre : null,
                ContentSha256 = row.ContentSha256,
            }).ToArray();
            var leaves = rows.Count > 0 && rows.All(row => row.Leaf is not null) ? rows.Select(row => row.Leaf!.Value).ToArray() : null;
            return (head.ToResult(images, errors, tree, leaves), source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException || ClusteringResultJson.IsMalformed(e))
        {
            throw new InvalidDataException($"cannot read the result in '{folder}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads the result whose <c>result.json</c> is at <paramref name="resultPath"/>: a folder written by <see cref="Write(string, ClusteringResult, ResultSource, float[])"/>,
    /// or one full document (<see cref="ClusteringResultJson.Write"/>, results of earlier versions and job stores).
    /// </summary>
    /// <exception cref="InvalidDataException">Neither form could be read; the message says why.</exception>
    public static (ClusteringResult Result, ResultSource Source) ReadResultFile(string resultPath)
    {
        ArgumentNullException.ThrowIfNull(resultPath);
        // The document says which form it is: a stale images.parquet beside a full result.json must not decide.
        bool summary;
        using (var probe = File.OpenRead(resultPath))
        {
            summary = ClusteringResultJson.IsSummary(probe);
        }
        if (summary)
        {
            return Read(Path.GetDirectoryName(Path.GetFullPath(resultPath))!);
        }
        using var stream = File.OpenRead(resultPath);
        return ClusteringResultJson.Read(stream);
    }

    /// <summary>The merge tree as SciPy's (N-1) x 4 float64 linkage matrix.</summary>
    private static NpyArray LinkageArray(MergeTree tree)
    {
        var steps = tree.LinkageMatrix;
        var values = new double[steps.Count * 4];
        for (var r = 0; r < steps.Count; r++)
        {
            values[4 * r] = steps[r].Left;
            values[4 * r + 1] = steps[r].Right;
            values[4 * r + 2] = steps[r].Height;
            values[4 * r + 3] = steps[r].Size;
        }
        return NpyArray.FromDoubles(values, steps.Count, 4);
    }

    private static double[,] ReadLinkage(string path)
    {
        var array = NpyArray.Parse(File.ReadAllBytes(path));
        if (array.Shape.Count != 2 || array.Shape[1] != 4)
        {
            throw new InvalidDataException($"{LinkageFileName} has shape ({string.Join(", ", array.Shape)}); a linkage matrix is (N-1) x 4.");
        }
        var values = array.ToDoubles();
        var linkage = new double[array.Shape[0], 4];
        Buffer.BlockCopy(values, 0, linkage, 0, values.Length * sizeof(double));
        return linkage;
    }

    /// <summary>
    /// Writes the rows as an N x <paramref name="width"/> float32 .npy file straight from the rows (no matrix assembled);
    /// deletes the file instead when any row is missing or of another width (precomputed embeddings have no alpha maps,
    /// results past <see cref="EmbeddingClustering.EmbeddingsKeptUpTo"/> images keep no embeddings).
    /// </summary>
    private static void WriteRows(string path, float[]?[] rows, int width)
    {
        if (rows.Length == 0 || width < 1 || rows.Any(row => row is null || row.Length != width))
        {
            File.Delete(path);
            return;
        }
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        NpyArray.WriteSingleRows(stream, rows.Length, width, i => rows[i]);
    }

    /// <summary>Writes x_i as an N x D float32 .npy file; deletes the file instead when the result has no embeddings.</summary>
    private static void WriteEmbeddings(string path, ClusteringResult result, float[]? embeddings)
    {
        if (EmbeddingRows.Of(result, embeddings) is not { } rows)
        {
            File.Delete(path);
            return;
        }
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        NpyArray.WriteSingleRows(stream, result.Images.Count, result.EmbeddingDimension, rows);
    }

    /// <summary>The rows of an N x <paramref name="width"/> .npy file; null when the file is absent.</summary>
    private static float[][]? ReadRows(string path, int count, int width)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        float[][] values;
        int rows, columns;
        // Row by row: the rows are the only copy (a matrix split into rows held the embeddings twice, 2 GB at a million).
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16))
        {
            values = NpyArray.ReadSingleRows(stream, out rows, out columns);
        }
        if (rows != count || columns != width)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)} has shape ({rows}, {columns}); expected ({count}, {width}).");
        }
        return values;
    }

    private static void WriteImages(string path, ClusteringResult result, ClusterCentres centres)
    {
        var images = result.Images;
        var leaves = result.LeafOfImage;
        var columns = new ImageColumns();
        // One set of column buffers for every row group, filled in place: new arrays per group were 3.8 MB of large-object
        // garbage per 65,536 rows (58 MB at a million images) that only a full collection frees.
        var capacity = Math.Min(Math.Max(images.Count, 1), RowGroupSize);
        var ids = new string[capacity];
        var clusters = new int[capacity];
        var labels = new string?[capacity];
        var distances = new double[capacity];
        var leafColumn = new int?[capacity];
        var scores = new double?[capacity];
        var hashes = new string?[capacity];
        WriteRowGroups(path, columns.Schema, images.Count, async (group, start, count) =>
        {
            for (var i = 0; i < count; i++)
            {
                var image = images[start + i];
                (ids[i], clusters[i], labels[i], distances[i]) = (image.Id, image.Cluster, image.Label, centres.Distances[start + i]);
                // Null unless the tree is over micro-clusters (two-stage Ward): then the image's leaf in linkage.npy.
                leafColumn[i] = leaves is null ? null : leaves[start + i];
                // The image's largest patch score (null for precomputed embeddings).
                scores[i] = image.AnomalyScore;
                // The SHA-256 of the image file as the job read it (null when unknown): thumbnails are found by it.
                hashes[i] = image.ContentSha256;
            }
            await group.WriteAsync(columns.Id, new ArraySegment<string>(ids, 0, count)).ConfigureAwait(false);
            await group.WriteAsync<int>(columns.Cluster, clusters.AsMemory(0, count)).ConfigureAwait(false);
            await group.WriteAsync(columns.Label, new ArraySegment<string>(labels!, 0, count)).ConfigureAwait(false);
            await group.WriteAsync<double>(columns.Distance, distances.AsMemory(0, count)).ConfigureAwait(false);
            await group.WriteAsync<int>(columns.Leaf, leafColumn.AsMemory(0, count)).ConfigureAwait(false);
            await group.WriteAsync<double>(columns.AnomalyScore, scores.AsMemory(0, count)).ConfigureAwait(false);
            await group.WriteAsync(columns.ContentSha256, new ArraySegment<string>(hashes!, 0, count)).ConfigureAwait(false);
        });
    }

    private static void WriteErrors(string path, IReadOnlyList<ImageError> errors)
    {
        var columns = new ErrorColumns();
        WriteRowGroups(path, columns.Schema, errors.Count, async (group, start, count) =>
        {
            var part = errors.Skip(start).Take(count).ToArray();
            await group.WriteAsync(columns.Id, part.Select(e => e.Id).ToArray()).ConfigureAwait(false);
            await group.WriteAsync(columns.Path, part.Select(e => e.Path).ToArray()).ConfigureAwait(false);
            await group.WriteAsync(columns.Reason, part.Select(e => e.Reason).ToArray()).ConfigureAwait(false);
            await group.WriteAsync(columns.Message, part.Select(e => e.Message).ToArray()).ConfigureAwait(false);
            await group.WriteAsync<bool>(columns.NormalImage, part.Select(e => e.IsNormalImage).ToArray()).ConfigureAwait(false);
        });
    }

    /// <summary>The rows of <see cref="ImagesFileName"/>, in file order.</summary>
    /// <exception cref="InvalidDataException">The file is not what <see cref="Write(string, ClusteringResult, ResultSource, float[])"/> writes.</exception>
    public static IReadOnlyList<ImageRow> ReadImages(string path)
    {
        var rows = new List<ImageRow>();
        ReadImages(path, rows.AddRange);
        return rows;
    }

    /// <summary>
    /// The rows of <see cref="ImagesFileName"/> one Parquet row group at a time (at most 65,536 rows), in file order: a reader
    /// that needs a column or a count of a large result holds one group, not every row.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not what <see cref="Write(string, ClusteringResult, ResultSource, float[])"/> writes.</exception>
    public static void ReadImages(string path, Action<IReadOnlyList<ImageRow>> rowGroup)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(rowGroup);
        ReadRowGroups(path, async (reader, group, count) =>
        {
            var ids = new string?[count];
            var clusters = new int[count];
            var labels = new string?[count];
            var distances = new double[count];
            var leaves = new int?[count];
            var scores = new double?[count];
            var hashes = new string?[count];
            await group.ReadAsync(Field(reader, IdColumn), ids.AsMemory()).ConfigureAwait(false);
            await group.ReadAsync<int>(Field(reader, ClusterColumn), clusters.AsMemory()).ConfigureAwait(false);
            await group.ReadAsync(Field(reader, LabelColumn), labels.AsMemory()).ConfigureAwait(false);
            await group.ReadAsync<double>(Field(reader, DistanceColumn), distances.AsMemory()).ConfigureAwait(false);
            if (reader.Schema.DataFields.Any(f => f.Name == LeafColumn))
            {
                await group.ReadAsync<int>(Field(reader, LeafColumn), leaves.AsMemory()).ConfigureAwait(false);
            }
            if (reader.Schema.DataFields.Any(f => f.Name == AnomalyScoreColumn))
            {
                await group.ReadAsync<double>(Field(reader, AnomalyScoreColumn), scores.AsMemory()).ConfigureAwait(false);
            }
            if (reader.Schema.DataFields.Any(f => f.Name == ContentSha256Column))
            {
                await group.ReadAsync(Field(reader, ContentSha256Column), hashes.AsMemory()).ConfigureAwait(false);
            }
            var rows = new ImageRow[count];
            for (var i = 0; i < count; i++)
            {
                rows[i] = new ImageRow(ids[i]!, clusters[i], labels[i], distances[i]) { Leaf = leaves[i], AnomalyScore = scores[i], ContentSha256 = hashes[i] };
            }
            rowGroup(rows);
        });
    }

    private static IReadOnlyList<ImageError> ReadErrors(string path)
    {
        var errors = new List<ImageError>();
        ReadRowGroups(path, async (reader, group, count) =>
        {
            var ids = new string?[count];
            var paths = new string?[count];
            var reasons = new string?[count];
            var messages = new string?[count];
            var normal = new bool[count];
            await group.ReadAsync(Field(reader, IdColumn), ids.AsMemory()).ConfigureAwait(false);
            await group.ReadAsync(Field(reader, PathColumn), paths.AsMemory()).ConfigureAwait(false);
            await group.ReadAsync(Field(reader, ReasonColumn), reasons.AsMemory()).ConfigureAwait(false);
            await group.ReadAsync(Field(reader, MessageColumn), messages.AsMemory()).ConfigureAwait(false);
            await group.ReadAsync<bool>(Field(reader, NormalImageColumn), normal.AsMemory()).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
            {
                errors.Add(new ImageError(ids[i]!, paths[i]!, reasons[i]!, messages[i]!, normal[i]));
            }
        });
        return errors;
    }

    /// <summary>Writes <paramref name="count"/> rows in row groups of <see cref="RowGroupSize"/> (one empty group for none): writeGroup(group, first row, rows).</summary>
    private static void WriteRowGroups(string path, ParquetSchema schema, int count, Func<ParquetRowGroupWriter, int, int, Task> writeGroup)
    {
        Run(async () =>
        {
            await using var stream = File.Create(path);
            await using var writer = await ParquetWriter.CreateAsync(schema, stream).ConfigureAwait(false);
            for (var start = 0; start < Math.Max(count, 1); start += RowGroupSize)
            {
                using var group = writer.CreateRowGroup();
                await writeGroup(group, start, Math.Min(RowGroupSize, count - start)).ConfigureAwait(false);
            }
        });
    }

    /// <summary>Reads every row group of the file in order: readGroup(reader, group, rows).</summary>
    private static void ReadRowGroups(string path, Func<ParquetReader, ParquetRowGroupReader, int, Task> readGroup)
    {
        Run(async () =>
        {
            await using var stream = File.OpenRead(path);
            await using var reader = await ParquetReader.CreateAsync(stream).ConfigureAwait(false);
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                await readGroup(reader, group, checked((int)group.RowCount)).ConfigureAwait(false);
            }
        });
    }

    /// <summary>The file's own field of that name (its schema, not ours, is what the reader matches columns by).</summary>
    private static DataField Field(ParquetReader reader, string column) =>
        reader.Schema.DataFields.FirstOrDefault(f => f.Name == column)
        ?? throw new InvalidDataException($"the Parquet file has no column '{column}'.");

    /// <summary>The images file's fields, new for each write.</summary>
    private sealed class ImageColumns
    {
        public DataField<string> Id { get; } = new(IdColumn);

        public DataField<int> Cluster { get; } = new(ClusterColumn);

        public DataField<string> Label { get; } = new(LabelColumn, nullable: true);

        public DataField<double> Distance { get; } = new(DistanceColumn);

        public DataField<int?> Leaf { get; } = new(LeafColumn);

        public DataField<double?> AnomalyScore { get; } = new(AnomalyScoreColumn);

        public DataField<string> ContentSha256 { get; } = new(ContentSha256Column, nullable: true);

        public ParquetSchema Schema => new(Id, Cluster, Label, Distance, Leaf, AnomalyScore, ContentSha256);
    }

    /// <summary>The errors file's fields, new for each write.</summary>
    private sealed class ErrorColumns
    {
        public DataField<string> Id { get; } = new(IdColumn);

        public DataField<string> Path { get; } = new(PathColumn);

        public DataField<string> Reason { get; } = new(ReasonColumn);

        public DataField<string> Message { get; } = new(MessageColumn);

        public DataField<bool> NormalImage { get; } = new(NormalImageColumn);

        public ParquetSchema Schema => new(Id, Path, Reason, Message, NormalImage);
    }

    private static void Run(Func<Task> work) => Task.Run(work).GetAwaiter().GetResult();
}

/// <summary>One row of <see cref="ResultFolder.ImagesFileName"/>.</summary>
/// <param name="Id">The image id.</param>
/// <param name="Cluster">0-based cluster index.</param>
/// <param name="Label">Ground-truth label, or null.</param>
/// <param name="DistanceToCentre">Euclidean distance of x_i to its cluster's centroid; NaN without embeddings.</param>
public sealed record ImageRow(string Id, int Cluster, string? Label, double DistanceToCentre)
{
    /// <summary>The image's micro-cluster (leaf of linkage.npy) when the tree is two-stage; null when the leaves are the images.</summary>
    public int? Leaf { get; init; }

    /// <summary>The image's anomaly score (its largest patch score); null for precomputed embeddings.</summary>
    public double? AnomalyScore { get; init; }

    /// <summary>The SHA-256 of the image file (64 hex digits) as the job read it; null when unknown or in files written before it was recorded.</summary>
    public string? ContentSha256 { get; init; }
}
