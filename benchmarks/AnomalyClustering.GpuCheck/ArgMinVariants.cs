using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace AnomalyClustering.GpuCheck;

/// <summary>
/// Where the nearest-patch graph's time goes on the device: the product's last step (ArgMin over each group's patches)
/// against ReduceMin (the minimum without its index) and TopK with k = 1, after the same MatMul and Add, on the same
/// inputs; and MatMul + Add with every value summed (ReduceSum), the cost without a per-group choice. Random data; one query of all its rows at once.
/// </summary>
internal static class ArgMinVariants
{
    public static void Run(int rows, int dimension, int groups, int patches, BackboneRuntimeOptions device, double seconds)
    {
        var random = new Random(3);
        var candidates = groups * patches;
        var transposed = new float[(long)dimension * candidates];
        for (var i = 0; i < transposed.Length; i++)
        {
            transposed[i] = (float)(random.NextDouble() * 2 - 1);
        }
        var norms = new float[candidates];
        for (var i = 0; i < norms.Length; i++)
        {
            norms[i] = (float)(random.NextDouble() * dimension);
        }
        var query = new float[rows * dimension];
        for (var i = 0; i < query.Length; i++)
        {
            query[i] = (float)(random.NextDouble() * 2 - 1);
        }
        foreach (var last in new[] { "ArgMin", "ReduceMin", "TopK", "ReduceSum" })
        {
            var graph = new OnnxGraphBuilder("variant");
            graph.AddInput("query", OnnxElementType.Float, [OnnxDimension.Symbolic("rows"), OnnxDimension.Fixed(dimension)]);
            graph.AddInitializer("references_t", transposed, dimension, candidates);
            graph.AddInitializer("reference_norms", norms, candidates);
            graph.AddInt64Initializer("group_shape", -1, groups, patches);
            graph.AddNode("MatMul", "products", ["query", "references_t"], ["products"]);
            graph.AddNode("Add", "partial_distances", ["products", "reference_norms"], ["partial_distances"]);
            graph.AddNode("Reshape", "by_group", ["partial_distances", "group_shape"], ["by_group"]);
            switch (last)
            {
                case "ArgMin":
                    graph.AddNode("ArgMin", "out", ["by_group"], ["out"], OnnxGraphBuilder.Int("axis", 2), OnnxGraphBuilder.Int("keepdims", 0), OnnxGraphBuilder.Int("select_last_index", 0));
                    graph.AddOutput("out", OnnxElementType.Int64, null);
                    break;
                case "TopK":
                    graph.AddInt64Initializer("k", 1);
                    graph.AddNode("TopK", "out", ["by_group", "k"], ["values", "out"], OnnxGraphBuilder.Int("axis", 2), OnnxGraphBuilder.Int("largest", 0), OnnxGraphBuilder.Int("sorted", 1));
                    graph.AddOutput("out", OnnxElementType.Int64, null);
                    break;
                case "ReduceMin":
                    graph.AddNode("ReduceMin", "out", ["by_group"], ["out"], OnnxGraphBuilder.Ints("axes", 2), OnnxGraphBuilder.Int("keepdims", 0));
                    graph.AddOutput("out", OnnxElementType.Float, null);
                    break;
                default:
                    // Every value summed: the cost of MatMul and Add with a reduction that is surely cheap.
                    graph.AddNode("ReduceSum", "out", ["by_group"], ["out"], OnnxGraphBuilder.Int("keepdims", 0));
                    graph.AddOutput("out", OnnxElementType.Float, null);
                    break;
            }
            var model = graph.Build("1", last);
            using var options = device.CreateSessionOptions();
            using var session = new InferenceSession(model, options);
            using var input = OrtValue.CreateTensorValueFromMemory(query, [rows, dimension]);
            var (best, median, runs) = DeviceChecks.Time(() =>
            {
                using var results = session.Run(new RunOptions(), ["query"], [input], ["out"]);
            }, seconds);
            Console.WriteLine($"  graph ending in {last,-9}: {median * 1e3:F2} ms median (best {best * 1e3:F2}, {runs} runs) for {rows} rows x {groups} groups x {patches} patches, D = {dimension}");
        }
    }
}
