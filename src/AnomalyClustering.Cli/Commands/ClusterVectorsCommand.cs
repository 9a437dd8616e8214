using System.CommandLine;
using AnomalyClustering.Cli.Output;
using AnomalyClustering.Cli.Vectors;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Kernels;
using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Commands;

/// <summary>
/// <c>cluster-vectors &lt;file&gt;</c>: clusters image embeddings computed elsewhere (.npy or CSV),
/// with optional labels for metrics, and writes the same outputs as <c>cluster</c>.
/// </summary>
internal static class ClusterVectorsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var file = new Argument<string>("file") { Description = "Embeddings, one row per image: .npy (float32/float64, N x D) or .csv (optional header and id column)." };
        var labelsOption = new Option<string?>("--labels") { Description = "CSV of (image id or row index, label); rows labelled 'combined' are left out.", HelpName = "labels.csv" };
        var providerOption = new Option<string>("--execution-provider")
        {
            Description = "Where the two-stage methods' k-means assignment runs (past 100,000 embeddings): cpu (the SIMD kernel) or cuda / tensorrt "
                + "(an ONNX graph on the GPU; GPU builds only). Everything else runs on the CPU.",
            DefaultValueFactory = _ => "cpu",
            HelpName = "cpu|cuda|tensorrt",
        };
        providerOption.AcceptOnlyFromAmong(BackboneSelection.ExecutionProviders);
        var shared = new ClusteringOptionSet(defaultOutput: "out");
        var command = new Command("cluster-vectors", "Cluster image embeddings computed elsewhere.") { file, labelsOption, providerOption };
        shared.AddTo(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            var table = EmbeddingTable.Read(path);
            var labelsPath = parseResult.GetValue(labelsOption);
            var labels = labelsPath is null ? null : ImageLabels.Read(labelsPath, table);
            var options = shared.Apply(parseResult, new ClusteringJobOptions());
            // A wrong --out costs one line here instead of a whole clustering that could not be written.
            ResultFiles.CheckOutputFolder(parseResult.GetValue(shared.Out)!);

            var rows = labels?.Rows ?? Enumerable.Range(0, table.Count).ToArray();
            // Every row in file order (no labels, or every row labelled) clusters the table's own array: no second copy.
            var values = rows.Length == table.Count && rows.Select((row, i) => row == i).All(same => same) ? table.Values : new float[(long)rows.Length * table.Dimension];
            if (!ReferenceEquals(values, table.Values))
            {
                for (var i = 0; i < rows.Length; i++)
                {
                    table.Values.AsSpan(rows[i] * table.Dimension, table.Dimension).CopyTo(values.AsSpan(i * table.Dimension));
                }
            }
            var ids = labels is null ? table.Ids : rows.Select(row => table.Ids[row]).ToArray();

            console.Out.MarkupLine($"[bold]{Markup.Escape(Path.GetFullPath(path))}[/]: {table.Count} embeddings of dimension {table.Dimension}");
            if (labels is not null)
            {
                var classes = labels.Labels.Distinct(StringComparer.Ordinal).Count();
                console.Out.MarkupLine($"  labels from {Markup.Escape(labelsPath!)}: {classes} classes" + (labels.CombinedDropped > 0 ? $"; left out {labels.CombinedDropped} 'combined' rows (METHOD section 6)" : string.Empty));
            }
            var provider = parseResult.GetValue(providerOption)!;
            var kind = BackboneSelection.ParseExecutionProvider(provider);
            OnnxCentreAssignment? graph = null;
            // Made on the first assignment: only the two-stage methods (past 100,000 embeddings) have one, so a small file
            // clusters as before wherever it runs; an unavailable provider is then the user's error.
            var gpuAssignment = kind == ExecutionProviderKind.Cpu ? null : new DeferredCentreAssignment(() => graph = GraphOn(kind, table.Dimension, options));
            ClusteringResult result;
            try
            {
                result = EmbeddingClustering.Run(values, rows.Length, table.Dimension, ids, labels?.Labels, options, centreAssignment: gpuAssignment);
            }
            finally
            {
                graph?.Dispose();
            }
            if (gpuAssignment is { WasUsed: false })
            {
                console.Out.MarkupLine($"  --execution-provider {Markup.Escape(provider)}: not used; these embeddings were clustered without k-means (only the two-stage methods, chosen past 100,000, have that step)");
            }
            var excluded = labels is { CombinedDropped: > 0 } ? new Dictionary<string, int> { ["combined"] = labels.CombinedDropped } : new Dictionary<string, int>();
            var source = new ResultSource("vectors", Path.GetFullPath(path), Layout: null, NormalFolder: null, Backbone: null, excluded);
            var (clustersCsv, resultJson) = ResultFiles.Write(parseResult.GetValue(shared.Out)!, result, source);
            ResultReport.Print(console.Out, result, clustersCsv, resultJson);
            return Task.FromResult(CliExitCodes.Success);
        });
        return command;
    }

    /// <summary>The assignment graph on a GPU provider.</summary>
    /// <exception cref="ExecutionProviderUnavailableException">This build or machine cannot load the provider (a user error: the message says which).</exception>
    private static OnnxCentreAssignment GraphOn(ExecutionProviderKind kind, int dimension, ClusteringJobOptions options) =>
        new(dimension, new BackboneRuntimeOptions
        {
            ExecutionProvider = kind,
            // Full float32 products: on an H200, TF32 put 8,565 of a million points in another micro-cluster than the CPU
            // kernel, full float32 82, for 0.20 instead of 0.15 s a pass (docs/BENCHMARKS.md).
            AllowTf32 = false,
            IntraOpThreads = options.ThreadCount(),
        });
}
