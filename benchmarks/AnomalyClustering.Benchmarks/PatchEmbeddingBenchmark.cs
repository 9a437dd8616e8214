using System.Diagnostics;
using AnomalyClustering.Core.Embeddings;

namespace AnomalyClustering.Benchmarks;

/// <summary>Times PatchEmbedder on ResNet-50 layer2 + layer3 shapes (512x28x28 + 1024x14x14), P = T = 1024.</summary>
internal sealed class PatchEmbeddingBenchmark : IBenchmark
{
    public string Name => "patch-embedding";

    public string Description => "feature maps -> patch bag, ResNet-50 layer2+layer3, P = T = 1024 [images=200] [P] [T]";

    public void Run(string[] args)
    {
        var images = args.Length > 0 ? int.Parse(args[0]) : 200;
        var pretrain = args.Length > 1 ? int.Parse(args[1]) : 1024;
        var target = args.Length > 2 ? int.Parse(args[2]) : 1024;
        var random = new Random(42);
        FeatureMap Map(int c, int h, int w)
        {
            var data = new float[c * h * w];
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = MathF.Max(0f, (float)(random.NextDouble() * 2 - 0.7));
            }
            return new FeatureMap(data, c, h, w);
        }
        FeatureMap[] layers = [Map(512, 28, 28), Map(1024, 14, 14)];
        var embedder = new PatchEmbedder(new PatchEmbeddingOptions { PretrainDimension = pretrain, TargetDimension = target });
        var shape = embedder.OutputShape([layers[0].Shape, layers[1].Shape]);
        var destination = new float[shape.Length];

        for (var i = 0; i < 20; i++)
        {
            embedder.Embed(layers, destination);
        }
        var times = new double[images];
        for (var i = 0; i < images; i++)
        {
            var start = Stopwatch.GetTimestamp();
            embedder.Embed(layers, destination);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        Console.WriteLine($"patch-embedding 512x28x28 + 1024x14x14 -> {shape.PatchCount} x {shape.Dimension}, P = {pretrain}, " +
            $"{images} images, single thread: median {times[images / 2]:F2} ms/image, min {times[0]:F2}, p90 {times[images * 9 / 10]:F2}");
    }
}
