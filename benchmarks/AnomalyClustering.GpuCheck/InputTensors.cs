using AnomalyClustering.Embedding.Imaging;

namespace AnomalyClustering.GpuCheck;

/// <summary>
/// The backbone's input tensors of real images, made by the product's own loader (decode, resize, crop, normalise), written
/// as one raw float32 file: the GPU machine then needs neither the datasets nor the image decoder's native library.
/// File layout: int32 count, int32 channels, int32 height, int32 width, then count x C x H x W floats (little-endian).
/// </summary>
internal static class InputTensors
{
    public static int Prepare(string folder, string output, int count)
    {
        var loader = new ImageLoader();
        var images = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(path => path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)
                || path.EndsWith(".bmp", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (images.Count == 0)
        {
            Console.Error.WriteLine($"no images under {folder}");
            return 2;
        }
        // Spread over the folder (defect kinds are in sub-folders), in a fixed order.
        var chosen = Enumerable.Range(0, count).Select(i => images[(int)((long)i * images.Count / count)]).ToList();
        var (channels, height, width) = loader.TensorShape;
        using var writer = new BinaryWriter(File.Create(output));
        writer.Write(chosen.Count);
        writer.Write(channels);
        writer.Write(height);
        writer.Write(width);
        foreach (var path in chosen)
        {
            foreach (var value in loader.Load(path))
            {
                writer.Write(value);
            }
            Console.WriteLine($"  {Path.GetRelativePath(folder, path)}");
        }
        Console.WriteLine($"{chosen.Count} tensors of {channels} x {height} x {width} -> {output}");
        return 0;
    }

    public static (float[] Data, int Count, int Channels, int Height, int Width) Read(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var (count, channels, height, width) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        var data = new float[(long)count * channels * height * width];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = reader.ReadSingle();
        }
        return (data, count, channels, height, width);
    }
}
