using System.Diagnostics;
using AnomalyClustering.Embedding.Backbones;
using Microsoft.ML.OnnxRuntime;

namespace AnomalyClustering.Benchmarks;

/// <summary>
/// Images per second of a backbone through <see cref="OnnxBackbone"/> on CPU at 224 x 224, random input,
/// for several batch sizes; the reference is benchmarks/reference/resnet50_torch_eager.py.
/// </summary>
internal sealed class EmbedThroughputBenchmark : IBenchmark
{
    public string Name => "embed-throughput";

    public string Description =>
        "images/s of a backbone (default ../shared resnet50 layer2+layer3) at 224x224 on CPU. "
        + "Args: [--batch 1,8,16] [--seconds 4] [--threads 2] [--opt all|extended|basic|none] [--mode sequential|parallel] "
        + "[--no-memory-pattern] [--no-arena] [--no-spinning] [--model PATH.onnx --outputs a,b | --builtin]";

    public void Run(string[] args)
    {
        var batchSizes = BenchmarkArgs.Option(args, "--batch", "1,8,16").Split(',').Select(int.Parse).ToArray();
        double seconds = double.Parse(BenchmarkArgs.Option(args, "--seconds", "4"), System.Globalization.CultureInfo.InvariantCulture);
        var options = new BackboneRuntimeOptions
        {
            IntraOpThreads = BenchmarkArgs.Int(args, "--threads", 2),
            GraphOptimizationLevel = BenchmarkArgs.Option(args, "--opt", "all") switch
            {
                "none" => GraphOptimizationLevel.ORT_DISABLE_ALL,
                "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
            ExecutionMode = BenchmarkArgs.Option(args, "--mode", "sequential") == "parallel" ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            EnableMemoryPattern = !args.Contains("--no-memory-pattern"),
            EnableCpuMemArena = !args.Contains("--no-arena"),
            AllowSpinning = !args.Contains("--no-spinning"),
        };
        var description = args.Contains("--builtin") ? BuiltInBackbone.Description : DescribeModel(args);

        var load = Stopwatch.StartNew();
        using var backbone = new OnnxBackbone(description, options);
        Console.WriteLine($"backbone {description.Name} ({description.ModelPath}), outputs {string.Join(",", description.FeatureOutputs)}");
        Console.WriteLine($"session: {options.IntraOpThreads} intra-op threads, {options.GraphOptimizationLevel}, {options.ExecutionMode}, "
                          + $"memory pattern {options.EnableMemoryPattern}, arena {options.EnableCpuMemArena}, spinning {options.AllowSpinning}; loaded in {load.Elapsed.TotalSeconds:F2} s");

        const int side = 224;
        var random = new Random(1);
        foreach (var batch in batchSizes)
        {
            var input = new float[batch * 3 * side * side];
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = (float)(random.NextDouble() * 4 - 2);
            }
            // First run learns the output shapes and lets ORT plan its memory; later runs reuse the buffers.
            var output = backbone.Run(input, batch, side, side);
            output = backbone.Run(input, batch, side, side, output);
            int runs = 0;
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var clock = Stopwatch.StartNew();
            while (runs < 2 || clock.Elapsed.TotalSeconds < seconds)
            {
                output = backbone.Run(input, batch, side, side, output);
                runs++;
            }
            double elapsed = clock.Elapsed.TotalSeconds;
            // CPU seconds per image is the steadier number on a shared machine (spinning threads inflate it).
            double cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds;
            Console.WriteLine($"batch {batch,3}: {runs * batch / elapsed,7:F2} images/s  ({elapsed / runs * 1000,8:F1} ms per batch, {runs} batches, {cpu / (runs * batch):F3} CPU-s per image)");
        }
    }

    private static BackboneDescription DescribeModel(string[] args)
    {
        var model = BenchmarkArgs.Option(args, "--model", "");
        if (model.Length == 0)
        {
            model = Path.GetFullPath(Path.Combine(BenchmarkArgs.SharedFolder(), "models", "resnet50_imagenet_layer2_layer3.onnx"));
        }
        return new BackboneDescription
        {
            Name = Path.GetFileNameWithoutExtension(model),
            ModelPath = model,
            FeatureOutputs = BenchmarkArgs.Option(args, "--outputs", "layer2,layer3").Split(','),
        };
    }
}
