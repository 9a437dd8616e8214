using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Jobs;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cli.Tests;

/// <summary>cluster on folders of images: outputs, per-image errors, and the errors users cause.</summary>
public sealed class ClusterCommandTests
{
    // Small embeddings keep these runs to a second or two; quality is the demo test's business.
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64", "--tau", "0.5"];

    [Fact]
    public void CorruptImagesAreListedAndTheOthersClustered()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(images, DefectType.Good, 3, seed: 1);
        SyntheticImages.Write(images, DefectType.Hole, 3, seed: 2);
        var valid = File.ReadAllBytes(Directory.GetFiles(images)[0]);
        folder.Write([.. "this is not a picture"u8], "images", "broken.png");
        folder.Write(valid[..(valid.Length / 2)], "images", "truncated.png");
        folder.Write([], "images", "empty.jpg");

        var run = CliRun.InProcess(["cluster", images, "-k", "2", "-o", folder.Combine("out"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("flat", run.Output);
        Assert.Contains("3 image(s) could not be used", run.Output);
        var rows = ResultJson.ClustersCsv(folder.Combine("out"));
        Assert.Equal(6, rows.Count);
        Assert.DoesNotContain(rows, row => row.Image is "broken.png" or "truncated.png" or "empty.jpg");
        Assert.Equal(2, rows.Select(r => r.Cluster).Distinct().Count());

        using var result = ResultJson.Load(folder.Combine("out"));
        var errors = result.Errors.ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("reason").GetString()!);
        Assert.Equal(["broken.png", "empty.jpg", "truncated.png"], errors.Keys.Order());
        Assert.Equal("empty", errors["empty.jpg"]);
        Assert.Equal("not-an-image", errors["broken.png"]);
        Assert.Equal("truncated", errors["truncated.png"]);
        Assert.All(result.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("message").GetString())));

        // Every clustered image carries its alpha map: one weight per patch of the grid, summing to 1.
        var grid = result.Root.GetProperty("alphaGrid");
        var patches = grid.GetProperty("height").GetInt32() * grid.GetProperty("width").GetInt32();
        Assert.Equal(rows.Count, result.Result.Images.Count);
        foreach (var image in result.Result.Images)
        {
            var alpha = image.PatchWeights!.Select(a => (double)a).ToArray();
            Assert.Equal(patches, alpha.Length);
            Assert.Equal(1.0, alpha.Sum(), 1e-4);
        }
    }

    [Fact]
    public void AFileThatCannotBeReadIsListedAsUnreadableAndTheOthersClustered()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(images, DefectType.Good, 2, seed: 1);
        SyntheticImages.Write(images, DefectType.Hole, 2, seed: 2);
        // A dangling link is listed like a file but cannot be opened, even by root (who can read any permission bits).
        File.CreateSymbolicLink(Path.Combine(images, "gone.png"), folder.Combine("nowhere", "gone.png"));

        var run = CliRun.InProcess(["cluster", images, "-k", "2", "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(4, ResultJson.ClustersCsv(folder.Combine("out")).Count);
        using var result = ResultJson.Load(folder.Combine("out"));
        var error = Assert.Single(result.Errors);
        Assert.Equal("gone.png", error.GetProperty("id").GetString());
        Assert.Equal("unreadable", error.GetProperty("reason").GetString());
        Assert.Equal(Path.Combine(images, "gone.png"), error.GetProperty("path").GetString());
    }

    [Fact]
    public void ANamedPipeNamedLikeAnImageIsLeftOutWithoutBeingOpened()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(images, DefectType.Good, 2, seed: 1);
        SyntheticImages.Write(images, DefectType.Hole, 2, seed: 2);
        // Opening it for reading would wait for a writer forever (and Ctrl+C would not end that wait).
        using var pipe = NamedPipeFile.Create(Path.Combine(images, "pipe.png"), unblockAfter: TimeSpan.FromSeconds(60));

        var run = CliRun.InProcess(["cluster", images, "-k", "2", "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("left out pipe.png (unreadable): cannot read the file: it is a named pipe (FIFO), not a regular file.", run.Output);
        Assert.Equal(4, ResultJson.ClustersCsv(folder.Combine("out")).Count);
        using var result = ResultJson.Load(folder.Combine("out"));
        var error = Assert.Single(result.Errors);
        Assert.Equal("pipe.png", error.GetProperty("id").GetString());
        Assert.Equal("unreadable", error.GetProperty("reason").GetString());
    }

    [Fact]
    public void ClassFoldersGiveLabelsAndKDefaultsToTheClassCount()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("data", "good"), DefectType.Good, 3, seed: 3);
        SyntheticImages.Write(folder.Combine("data", "contamination"), DefectType.Contamination, 3, seed: 4);

        var run = CliRun.InProcess(["cluster", folder.Combine("data"), "-o", folder.Combine("out"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("class folders", run.Output);
        Assert.Contains("NMI", run.Output);
        var rows = ResultJson.ClustersCsv(folder.Combine("out"));
        Assert.Equal(["contamination", "contamination", "contamination", "good", "good", "good"], rows.Select(r => r.Label));
        using var result = ResultJson.Load(folder.Combine("out"));
        Assert.Equal(2, result.Root.GetProperty("clusterCount").GetInt32());
        Assert.Equal(2, result.Root.GetProperty("options").GetProperty("clusters").GetInt32());
        Assert.Equal("class-folders", result.Root.GetProperty("source").GetProperty("layout").GetString());
    }

    [Fact]
    public void AClassWithoutAUsableImageIsNamedAndTheSmallerKSaid()
    {
        // K comes from the classes that have an image to cluster; a class of corrupt files once took a cluster away unsaid.
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("data", "good"), DefectType.Good, 3, seed: 3);
        SyntheticImages.Write(folder.Combine("data", "contamination"), DefectType.Contamination, 3, seed: 4);
        folder.Write([.. "this is not a picture"u8], "data", "hole", "broken.png");
        folder.Write([], "data", "hole", "empty.png");

        var run = CliRun.InProcess(["cluster", folder.Combine("data"), "-o", folder.Combine("out"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        // The console wraps long lines at 120 columns.
        var output = OneLine(run.Output);
        Assert.Contains("K = 3 (the number of classes)", output);
        Assert.Contains("warning: class 'hole' (2 files) has no image that could be used", output);
        Assert.Contains("K, the number of classes with an image, is 2 instead of 3; -k 3 keeps 3 clusters.", output);
        using var result = ResultJson.Load(folder.Combine("out"));
        Assert.Equal(2, result.Root.GetProperty("clusterCount").GetInt32());
        // The job's own warning, kept with the result: what the console said is what result.json and the report say.
        var warning = Assert.Single(result.Root.GetProperty("warnings").EnumerateArray().ToArray());
        Assert.Equal("class-without-images", warning.GetProperty("code").GetString());
        Assert.Contains(warning.GetProperty("message").GetString()!, output, StringComparison.Ordinal);
        Assert.Contains("data-code=\"class-without-images\"", File.ReadAllText(folder.Combine("out", "report.html")), StringComparison.Ordinal);

        // With K given, the class is named all the same.
        var given = CliRun.InProcess(["cluster", folder.Combine("data"), "-k", "2", "-o", folder.Combine("out2"), .. Small]);
        Assert.True(given.ExitCode == 0, given.Error);
        Assert.Contains("warning: class 'hole' (2 files) has no image that could be used (every file is left out, listed below); the scores are over the other 2 classes.", OneLine(given.Output));
    }

    private static string OneLine(string output) => string.Join(' ', output.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void ModelOptionUsesTheOnnxFileOutputsAsFeatureMaps()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("images"), DefectType.Good, 2, seed: 5);
        SyntheticImages.Write(folder.Combine("images"), DefectType.Stain, 2, seed: 6);

        var run = CliRun.InProcess(["cluster", folder.Combine("images"), "--model", TestPaths.Fixture("onnx", "tiny_backbone.onnx"), "-k", "2", "-o", folder.Combine("out"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        using var result = ResultJson.Load(folder.Combine("out"));
        Assert.Equal("tiny_backbone", result.Root.GetProperty("source").GetProperty("backbone").GetString());
        Assert.Equal(4, result.Root.GetProperty("imageCount").GetInt32());
    }

    [Fact]
    public void ResizeOptionsChangeTheBackboneInput()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("images"), DefectType.Good, 2, seed: 5);
        SyntheticImages.Write(folder.Combine("images"), DefectType.Stain, 2, seed: 6);

        var run = CliRun.InProcess(["cluster", folder.Combine("images"), "--resize-mode", "stretch", "--crop", "112", "-k", "2", "-o", folder.Combine("out"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        using var result = ResultJson.Load(folder.Combine("out"));
        // A 112 x 112 input gives the built-in backbone's stride-8 map a 14 x 14 patch grid (28 x 28 at 224).
        Assert.Equal(14, result.Root.GetProperty("alphaGrid").GetProperty("height").GetInt32());
        Assert.Equal(14, result.Root.GetProperty("alphaGrid").GetProperty("width").GetInt32());
        var preprocessing = result.Root.GetProperty("source").GetProperty("preprocessing");
        Assert.Equal("Stretch", preprocessing.GetProperty("resizeMode").GetString());
        Assert.Equal(112, preprocessing.GetProperty("cropWidth").GetInt32());
        CliRun.InProcess("cluster", folder.Combine("images"), "-k", "2", "--crop", "0").AssertOneLineError(CliExitCodes.InputError, "--crop");
        CliRun.InProcess("cluster", folder.Combine("images"), "-k", "2", "--resize-mode", "squash").AssertOneLineError(CliExitCodes.UsageError, "squash");
    }

    [Theory]
    [InlineData("5", "--crop 5 (a 5x5-pixel backbone input) leads to a 1x1 patch grid: one patch per image")]
    [InlineData("16", "--crop 16 (a 16x16-pixel backbone input) leads to a 2x2 patch grid: fewer patches a side than the 3x3 neighbourhood each patch aggregates (--patch-size 3)")]
    public void ACropThatLeavesTooSmallAPatchGridIsWarnedOf(string crop, string warning)
    {
        // Once a degenerate result without a word: a 1x1 grid leaves the anomaly weights nothing to weigh.
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("images"), DefectType.Good, 2, seed: 5);
        SyntheticImages.Write(folder.Combine("images"), DefectType.Stain, 2, seed: 6);

        var run = CliRun.InProcess(["cluster", folder.Combine("images"), "--crop", crop, "-k", "2", "-o", folder.Combine("out"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("warning: " + warning, OneLine(run.Output));
        Assert.Contains("A larger --crop gives a larger grid", OneLine(run.Output));
        using (var result = ResultJson.Load(folder.Combine("out")))
        {
            var written = Assert.Single(result.Root.GetProperty("warnings").EnumerateArray().ToArray());
            Assert.Equal("small-patch-grid", written.GetProperty("code").GetString());
            Assert.Contains(written.GetProperty("message").GetString()!, OneLine(run.Output), StringComparison.Ordinal);
        }
        // 40 pixels give a 5x5 grid: enough for 3x3 neighbourhoods, no warning.
        var enough = CliRun.InProcess(["cluster", folder.Combine("images"), "--crop", "40", "-k", "2", "-o", folder.Combine("out40"), .. Small]);
        Assert.True(enough.ExitCode == 0, enough.Error);
        Assert.DoesNotContain("patch grid", enough.Output);
        using var none = ResultJson.Load(folder.Combine("out40"));
        Assert.Equal(0, none.Root.GetProperty("warnings").GetArrayLength());
    }

    [Fact]
    public void AnOutputFolderThatIsAFileIsRefusedBeforeAnyEmbedding()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("images"), DefectType.Good, 2, seed: 5);
        SyntheticImages.Write(folder.Combine("images"), DefectType.Stain, 2, seed: 6);
        var outFile = folder.Combine("out.txt");
        File.WriteAllText(outFile, "not a folder");
        var store = folder.Combine("store");
        CliRun.InProcess("cluster", folder.Combine("images"), "-k", "2", "--out", outFile, "--store", store)
            .AssertOneLineError(CliExitCodes.InputError, "is a file");
        // The embedded silo (and with it the store's feature cache) never started: nothing was embedded.
        Assert.False(Directory.Exists(store), "the store folder exists, so the job started before --out was checked");
        Assert.Equal("not a folder", File.ReadAllText(outFile));
        CliRun.InProcess("cluster", folder.Combine("images"), "-k", "2", "--out", Path.Combine(outFile, "results"), "--store", store)
            .AssertOneLineError(CliExitCodes.InputError, "is a file");
        Assert.False(Directory.Exists(store));
    }

    [Fact]
    public void MissingFolderIsAnInputError()
    {
        using var folder = new TempFolder();
        CliRun.InProcess("cluster", folder.Combine("nowhere"), "-k", "2").AssertOneLineError(CliExitCodes.InputError, "does not exist");
    }

    [Fact]
    public void EmptyFolderIsAnInputError()
    {
        using var folder = new TempFolder();
        CliRun.InProcess("cluster", folder.Path, "-k", "2").AssertOneLineError(CliExitCodes.InputError, "no images found");
    }

    [Fact]
    public void FlatFolderOfTwoImagesIsTooSmallToFindTheClusterCount()
    {
        // Without labels, K or a threshold, K is found automatically; that needs 3 images (K in 2..N - 1).
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Path, DefectType.Good, 2, seed: 7);
        CliRun.InProcess("cluster", folder.Path).AssertOneLineError(CliExitCodes.InputError, "at least 3 images");
    }

    [Fact]
    public void MoreClustersThanImagesIsAnInputError()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Path, DefectType.Good, 3, seed: 8);
        CliRun.InProcess("cluster", folder.Path, "-k", "5", "-o", folder.Combine("out")).AssertOneLineError(CliExitCodes.InputError, "5 clusters");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("NaN")]
    public void BadTauIsAnInputError(string tau)
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Path, DefectType.Good, 2, seed: 9);
        CliRun.InProcess("cluster", folder.Path, "-k", "2", "--tau", tau).AssertOneLineError(CliExitCodes.InputError, "tau");
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.01")]
    public void ACoresetFractionOutsideZeroToOneIsAnInputError(string fraction)
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Path, DefectType.Good, 2, seed: 9);
        CliRun.InProcess("cluster", folder.Path, "-k", "2", "--coreset", fraction).AssertOneLineError(CliExitCodes.InputError, "coreset fraction");
    }

    [Fact]
    public void NegativeNormalLimitIsAnInputError()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Path, DefectType.Good, 2, seed: 9);
        CliRun.InProcess("cluster", folder.Path, "-k", "2", "--normal-limit", "-1").AssertOneLineError(CliExitCodes.InputError, "normal image limit");
    }

    [Fact]
    public void ImageOptionDefaultsAreThePipelineDefaults()
    {
        // The CLI must not drift from ClusteringJobOptions: an empty command line gives exactly the library defaults.
        var set = new ImageJobOptionSet();
        var command = new System.CommandLine.Command("probe");
        set.AddTo(command);
        var parsed = command.Parse(Array.Empty<string>());
        var scrambled = new ClusteringJobOptions { Tau = 9, ReferenceCount = 3, NormalImageLimit = 5, CoresetFraction = 0.5, PretrainDimension = 7, TargetDimension = 5, BatchSize = 2, LayerNorm = false };

        Assert.Equal(new ClusteringJobOptions(), set.Apply(parsed, scrambled));
    }

    [Fact]
    public void UnknownLinkageIsAUsageError()
    {
        using var folder = new TempFolder();
        CliRun.InProcess("cluster", folder.Path, "-k", "2", "--linkage", "median").AssertOneLineError(CliExitCodes.UsageError, "median");
    }

    [Fact]
    public void UnknownExecutionProviderIsAUsageError()
    {
        using var folder = new TempFolder();
        CliRun.InProcess("cluster", folder.Path, "-k", "2", "--execution-provider", "directml").AssertOneLineError(CliExitCodes.UsageError, "directml");
    }

    [Fact]
    public void UnavailableExecutionProviderIsAnInputError()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Path, DefectType.Good, 2, seed: 10);
        // This build carries the CPU ONNX Runtime only, so CUDA cannot load.
        CliRun.InProcess("cluster", folder.Path, "-k", "2", "--execution-provider", "cuda", "-o", folder.Combine("out"))
            .AssertOneLineError(CliExitCodes.InputError, "Cuda");
    }

    [Fact]
    public void UnreadableModelIsAnInputError()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("images"), DefectType.Good, 2, seed: 11);
        var model = folder.WriteText("definitely not protobuf", "model.onnx");
        CliRun.InProcess("cluster", folder.Combine("images"), "-k", "2", "--model", model).AssertOneLineError(CliExitCodes.InputError, "model.onnx");
        CliRun.InProcess("cluster", folder.Combine("images"), "-k", "2", "--model", folder.Combine("absent.onnx")).AssertOneLineError(CliExitCodes.InputError, "absent.onnx");
    }

    [Fact]
    public void ThePatchSizeChangesTheEmbeddingsIsRecordedAndAnEvenOneIsAnInputError()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(images, DefectType.Good, 2, seed: 13);
        SyntheticImages.Write(images, DefectType.Hole, 2, seed: 14);
        var three = CliRun.InProcess(["cluster", images, "-k", "2", "-o", folder.Combine("k3"), "--store", folder.Combine("store"), .. Small]);
        var one = CliRun.InProcess(["cluster", images, "-k", "2", "--patch-size", "1", "-o", folder.Combine("k1"), "--store", folder.Combine("store"), .. Small]);

        Assert.True(three.ExitCode == 0 && one.ExitCode == 0, three.Error + one.Error);
        using var k3 = ResultJson.Load(folder.Combine("k3"));
        using var k1 = ResultJson.Load(folder.Combine("k1"));
        Assert.Equal(3, k3.Result.Options.PatchSize);
        Assert.Equal(1, k1.Result.Options.PatchSize);
        Assert.Equal(1, k1.Root.GetProperty("options").GetProperty("patchSize").GetInt32());
        Assert.NotEqual(k3.Result.Images[0].Embedding, k1.Result.Images[0].Embedding);
        CliRun.InProcess(["cluster", images, "-k", "2", "--patch-size", "4", "-o", folder.Combine("k4"), .. Small]).AssertOneLineError(CliExitCodes.InputError, "patch size k is 4");
    }

    [Fact]
    public void SemiSupervisedWithoutNormalImagesIsAnInputError()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Path, DefectType.Good, 2, seed: 12);
        CliRun.InProcess("cluster", folder.Path, "-k", "2", "--mode", "semi-supervised").AssertOneLineError(CliExitCodes.InputError, "normal");
    }

    [Fact]
    public void BuiltExecutableFailsCleanlyOnAMissingFolder()
    {
        using var folder = new TempFolder();
        CliRun.Executable("cluster", folder.Combine("nowhere"), "-k", "2").AssertOneLineError(CliExitCodes.InputError, "does not exist");
    }
}
