using System.Text.Json;
using System.Text.Json.Nodes;

namespace AnomalyClustering.Jobs.Tests;

/// <summary>
/// A result's warnings: a class without a usable image and a patch grid too small for the method are said with a stable
/// code, kept in result.json (summary and full document) and read back; a document written before warnings reads with none.
/// </summary>
public sealed class ResultWarningsTests : IDisposable
{
    private static readonly ResultSource Source = new("images", "/data/parts", "class-folders", null, "resnet18", new Dictionary<string, int>());

    private readonly string _folder = Directory.CreateTempSubdirectory("anomaly-result-warnings-").FullName;

    [Fact]
    public void AClassWithoutImagesIsSaidWithTheSmallerKOrThatTheScoresLeaveItOut()
    {
        var result = GoodAndScratch(new ClusteringJobOptions());
        string[] given = ["good", "hole", "scratch"];

        Assert.Equal(["hole"], ResultWarnings.ClassesWithoutImages(result, given));
        var fromLabels = ResultWarnings.ClassWithoutImages(result, given.Length, [("hole", 2)], new ClusteringJobOptions())!;
        Assert.Equal(ResultWarnings.ClassWithoutImagesCode, fromLabels.Code);
        Assert.Equal(
            "class 'hole' (2 files) has no image that could be used (every file is left out, listed below), so K, the number of classes with an image, is 2 instead of 3; -k 3 keeps 3 clusters.",
            fromLabels.Message);
        var kGiven = ResultWarnings.ClassWithoutImages(result, given.Length, [("hole", 2)], new ClusteringJobOptions { ClusterCount = 2 })!;
        Assert.EndsWith("(every file is left out, listed below); the scores are over the other 2 classes.", kGiven.Message, StringComparison.Ordinal);
        Assert.Empty(ResultWarnings.ClassesWithoutImages(result, ["good", "scratch"]));
        Assert.Null(ResultWarnings.ClassWithoutImages(result, 2, [], new ClusteringJobOptions()));
    }

    [Theory]
    [InlineData(1, 1, "leads to a 1x1 patch grid: one patch per image")]
    [InlineData(2, 2, "leads to a 2x2 patch grid: fewer patches a side than the 3x3 neighbourhood")]
    [InlineData(5, 5, null)]
    [InlineData(0, 0, null)]
    public void APatchGridTooSmallForTheMethodIsSaid(int height, int width, string? expected)
    {
        var result = GoodAndScratch(new ClusteringJobOptions()) with { PatchGridHeight = height, PatchGridWidth = width };

        var warning = ResultWarnings.SmallPatchGrid(result, PreprocessingOptions.Default with { CropWidth = height * 8, CropHeight = width * 8 });

        if (expected is null)
        {
            Assert.Null(warning);
            return;
        }
        Assert.Equal(ResultWarnings.SmallPatchGridCode, warning!.Code);
        Assert.Contains(expected, warning.Message, StringComparison.Ordinal);
        Assert.StartsWith($"--crop {height * 8} ", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheWarningsAreInResultJsonAndReadBack()
    {
        ResultWarning[] warnings = [new(ResultWarnings.ClassWithoutImagesCode, "class 'hole' (2 files) has no image"), new(ResultWarnings.SmallPatchGridCode, "a 1x1 patch grid")];
        var result = GoodAndScratch(new ClusteringJobOptions()) with { Warnings = warnings };

        ResultFolder.Write(_folder, result, Source);

        using var summary = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_folder, ResultFolder.SummaryFileName)));
        var written = summary.RootElement.GetProperty("warnings").EnumerateArray()
            .Select(w => new ResultWarning(w.GetProperty("code").GetString()!, w.GetProperty("message").GetString()!));
        Assert.Equal(warnings, written);
        Assert.Equal(warnings, ResultFolder.Read(_folder).Result.Warnings);
        using (var stream = File.OpenRead(Path.Combine(_folder, ResultFolder.SummaryFileName)))
        {
            Assert.Equal(warnings, ResultSummary.Read(stream).Warnings);
        }
        using var full = new MemoryStream();
        ClusteringResultJson.Write(full, result, Source);
        full.Position = 0;
        Assert.Equal(warnings, ClusteringResultJson.Read(full).Result.Warnings);
    }

    [Fact]
    public void AResultJsonWrittenBeforeWarningsReadsWithNone()
    {
        ResultFolder.Write(_folder, GoodAndScratch(new ClusteringJobOptions()) with { Warnings = [new("small-patch-grid", "x")] }, Source);
        var path = Path.Combine(_folder, ResultFolder.SummaryFileName);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(root.Remove("warnings"));
        File.WriteAllText(path, root.ToJsonString());

        Assert.Empty(ResultFolder.Read(_folder).Result.Warnings);
        using var stream = File.OpenRead(path);
        Assert.Empty(ResultSummary.Read(stream).Warnings);
    }

    /// <summary>Six labelled points in two blobs, good and scratch.</summary>
    private static ClusteringResult GoodAndScratch(ClusteringJobOptions options)
    {
        float[] points = [0, 0, 0.1f, 0, 0, 0.1f, 5, 5, 5.1f, 5, 5, 5.1f];
        return EmbeddingClustering.Run(points, 6, 2, ["a", "b", "c", "d", "e", "f"], ["good", "good", "good", "scratch", "scratch", "scratch"], options);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
