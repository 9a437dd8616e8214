namespace AnomalyClustering.Cli.Demo;

/// <summary>What the synthetic product line generates: how many images, which defects, which seed.</summary>
internal sealed record SyntheticProductLineOptions
{
    /// <summary>The category folder name under the output folder (MVTec's per-product folder).</summary>
    public string ProductName { get; init; } = "metal_plate";

    /// <summary>Test images per class (the good class and every defect type).</summary>
    public int ImagesPerClass { get; init; } = 20;

    /// <summary>Defect-free training images in <c>train/good</c> (the normal set of semi-supervised mode).</summary>
    public int NormalTrainingImages { get; init; } = 10;

    /// <summary>The defect types painted; each is one folder under <c>test/</c>.</summary>
    public IReadOnlyList<DefectType> DefectTypes { get; init; } =
        [DefectType.Scratch, DefectType.Stain, DefectType.Crack, DefectType.Hole, DefectType.Contamination];

    /// <summary>Seed of every random choice; the same seed writes the same files.</summary>
    public int Seed { get; init; } = 7;
}

/// <summary>What was written: the dataset root and the image count of each class.</summary>
internal sealed record SyntheticProductLineSummary(string Root, IReadOnlyList<(string ClassName, int Count)> TestClasses, int NormalTrainingImages);

/// <summary>
/// Writes a seeded synthetic product line in MVTec layout (<c>train/good</c>, <c>test/&lt;class&gt;</c>)
/// so the whole method can be run and judged without downloading a dataset.
/// </summary>
internal static class SyntheticProductLine
{
    /// <summary>Generates the images under <paramref name="outputFolder"/>/ProductName; calls <paramref name="imagesWritten"/> with the count after each file.</summary>
    public static SyntheticProductLineSummary Write(string outputFolder, SyntheticProductLineOptions options, Action<int>? imagesWritten = null)
    {
        if (options.ImagesPerClass < 1)
        {
            throw new CliInputException($"--images-per-class is {options.ImagesPerClass}; it must be at least 1.");
        }
        var root = Path.Combine(outputFolder, options.ProductName);
        if (Directory.Exists(root))
        {
            // Stale images from an earlier run with other settings would silently join the dataset.
            Directory.Delete(root, recursive: true);
        }

        var written = 0;
        var classes = new List<(string, int)>();
        var testClasses = new List<DefectType> { DefectType.Good };
        testClasses.AddRange(options.DefectTypes);
        for (var c = 0; c < testClasses.Count; c++)
        {
            var folder = Path.Combine(root, "test", testClasses[c].FolderName());
            WriteImages(folder, testClasses[c], options.ImagesPerClass, ImageSeed(options.Seed, c + 1), imagesWritten, ref written);
            classes.Add((testClasses[c].FolderName(), options.ImagesPerClass));
        }
        WriteImages(Path.Combine(root, "train", "good"), DefectType.Good, options.NormalTrainingImages, ImageSeed(options.Seed, 0), imagesWritten, ref written);
        return new SyntheticProductLineSummary(root, classes, options.NormalTrainingImages);
    }

    /// <summary>Total number of images <see cref="Write"/> produces for these options.</summary>
    public static int ImageCount(SyntheticProductLineOptions options) =>
        (options.DefectTypes.Count + 1) * options.ImagesPerClass + options.NormalTrainingImages;

    private static void WriteImages(string folder, DefectType type, int count, int seed, Action<int>? progress, ref int written)
    {
        Directory.CreateDirectory(folder);
        var done = written;
        var gate = new object();
        // Images in parallel, one core each: every image has its own generator, so the files are the same whatever the
        // thread count (a 50,000-image line is minutes on one core).
        Parallel.For(0, count, i =>
        {
            // One generator per image: any image can be regenerated alone, and counts do not shift other images.
            var random = new Random(unchecked(seed * 7919 + i));
            File.WriteAllBytes(Path.Combine(folder, $"{i:D3}.png"), SyntheticSurfacePainter.PaintPng(type, random));
            // Progress in order and from one thread at a time: the console's progress display is not thread-safe.
            lock (gate)
            {
                progress?.Invoke(++done);
            }
        });
        written = done;
    }

    private static int ImageSeed(int seed, int classIndex) => unchecked(seed * 1_000_003 + classIndex * 10_007);
}
