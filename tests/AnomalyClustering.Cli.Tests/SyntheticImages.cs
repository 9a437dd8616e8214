using AnomalyClustering.Cli.Demo;

namespace AnomalyClustering.Cli.Tests;

/// <summary>Small image sets for command tests, painted by the demo's generator.</summary>
internal static class SyntheticImages
{
    /// <summary>Writes <paramref name="count"/> PNGs of a defect type into <paramref name="folder"/> as prefix_000.png, ...</summary>
    public static void Write(string folder, DefectType type, int count, int seed, string prefix = "")
    {
        Directory.CreateDirectory(folder);
        for (var i = 0; i < count; i++)
        {
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}{type.FolderName()}_{i:D3}.png"), SyntheticSurfacePainter.PaintPng(type, new Random(seed * 1000 + i)));
        }
    }
}
