using System.Diagnostics;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Embedding.Backbones;

namespace AnomalyClustering.GpuCheck;

/// <summary>
/// The backbone (<see cref="OnnxBackbone"/>, as a worker runs it: input copied in, feature maps copied back) on the device
/// provider against the CPU provider: the same real inputs must give the same feature maps and patch bags up to float
/// rounding (the device's convolutions and matrix products sum in another order, and may use TF32), then images per second
/// at several batch sizes on both.
/// </summary>
internal static class BackboneCheck
{
    public static List<PatchBag> Run((float[] Data, int Count, int Channels, int Height, int Width) inputs, string model,
        BackboneRuntimeOptions device, BackboneRuntimeOptions cpu, double seconds)
    {
        var description = AnomalyClustering.Benchmarks.BenchmarkBackbones.Describe(model);
        var load = Stopwatch.StartNew();
        using var onDevice = new OnnxBackbone(description, device);
        Console.WriteLine($"backbone {description.Name}: outputs {string.Join(", ", description.FeatureOutputs)}; session on {device.ExecutionProvider} in {load.Elapsed.TotalSeconds:F1} s");
        using var onCpu = new OnnxBackbone(description, cpu);

        // Same inputs, both providers: feature maps and the patch bags the product makes of them.
        var (data, count, height, width) = (inputs.Data, inputs.Count, inputs.Height, inputs.Width);
        var deviceMaps = onDevice.Run(data, count, height, width);
        var cpuMaps = onCpu.Run(data, count, height, width);
        foreach (var layer in cpuMaps.Layers)
        {
            Console.WriteLine($"  {layer.Name} ({layer.Channels} x {layer.Height} x {layer.Width}): largest difference {DeviceChecks.ScaledDifference(layer.Data, deviceMaps[layer.Name].Data):G3} of the largest value");
        }
        var embedder = new PatchEmbedder(new PatchEmbeddingOptions());
        var bags = new List<PatchBag>();
        double bagDifference = 0, meanDifference = 0;
        for (var n = 0; n < count; n++)
        {
            var cpuBag = embedder.Embed(cpuMaps.FeatureMaps(n));
            var deviceBag = embedder.Embed(deviceMaps.FeatureMaps(n));
            bagDifference = Math.Max(bagDifference, DeviceChecks.ScaledDifference(cpuBag.Data, deviceBag.Data));
            meanDifference = Math.Max(meanDifference, DeviceChecks.ScaledDifference(MeanPatch(cpuBag), MeanPatch(deviceBag)));
            bags.Add(cpuBag);
        }
        Console.WriteLine($"  patch bags of {count} images ({bags[0].PatchCount} x {bags[0].Dimension}): largest difference {bagDifference:G3}; of their mean patches {meanDifference:G3}");

        foreach (var (name, backbone, batches) in new[] { ("device", onDevice, new[] { 1, 8, 32, 64 }), ("cpu", onCpu, new[] { 1, 8 }) })
        {
            foreach (var batch in batches)
            {
                var input = Tile(data, count, batch);
                var output = backbone.Run(input, batch, height, width);
                var (best, median, runs) = DeviceChecks.Time(() => output = backbone.Run(input, batch, height, width, output), seconds);
                Console.WriteLine($"  {name} {backbone.Options.ExecutionProvider}, batch {batch,2}: {batch / median,8:F1} images/s median ({median * 1e3:F2} ms a batch, best {best * 1e3:F2}, {runs} runs)");
            }
        }
        return bags;
    }

    private static float[] MeanPatch(PatchBag bag)
    {
        var mean = new float[bag.Dimension];
        for (var p = 0; p < bag.PatchCount; p++)
        {
            var row = bag.Data.AsSpan(p * bag.Dimension, bag.Dimension);
            for (var d = 0; d < mean.Length; d++)
            {
                mean[d] += row[d] / bag.PatchCount;
            }
        }
        return mean;
    }

    private static float[] Tile(float[] data, int count, int batch)
    {
        var one = data.Length / count;
        var tiled = new float[batch * one];
        for (var n = 0; n < batch; n++)
        {
            Array.Copy(data, n % count * one, tiled, n * one, one);
        }
        return tiled;
    }
}
