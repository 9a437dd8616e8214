using AnomalyClustering.Cli.Commands;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cli.Tests;

/// <summary><c>cluster --detect-then-cluster</c>: the images under the job's detection threshold are one cluster, the rest are clustered into K - 1.</summary>
public sealed class DetectThenClusterTests
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64", "--tau", "0.5"];

    private static string MvtecFolder(TempFolder folder)
    {
        var root = folder.Combine("plates");
        SyntheticImages.Write(Path.Combine(root, "test", "good"), DefectType.Good, 5, seed: 1);
        SyntheticImages.Write(Path.Combine(root, "test", "scratch"), DefectType.Scratch, 5, seed: 2);
        SyntheticImages.Write(Path.Combine(root, "test", "hole"), DefectType.Hole, 5, seed: 3);
        SyntheticImages.Write(Path.Combine(root, "train", "good"), DefectType.Good, 8, seed: 4);
        return root;
    }

    [Fact]
    public void TheImagesUnderTheThresholdAreOneClusterAndTheOthersFillTheRest()
    {
        using var folder = new TempFolder();
        var out_ = folder.Combine("out");
        var run = CliRun.InProcess(["cluster", MvtecFolder(folder), "--mode", "semi-supervised", "--detect-then-cluster", "-k", "3", "-o", out_, "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("detect then cluster", run.Output);
        using var result = ResultJson.Load(out_);
        Assert.True(result.Result.Options.DetectThenCluster);
        var threshold = result.Result.AnomalyThreshold!.Value;
        var good = result.Result.DetectedGood;
        Assert.NotNull(good);
        Assert.Equal(good.Images, result.Root.GetProperty("detectedGood").GetProperty("images").GetInt32());
        var under = result.Result.Images.Where(image => image.AnomalyScore <= threshold).ToArray();
        var above = result.Result.Images.Where(image => image.AnomalyScore > threshold).ToArray();
        Assert.True(under.Length > 0 && above.Length >= 2, $"{under.Length} under and {above.Length} above the threshold: the test needs both");
        Assert.Equal(under.Length, good.Images);
        Assert.All(under, image => Assert.Equal(good.Cluster, image.Cluster));
        Assert.All(above, image => Assert.NotEqual(good.Cluster, image.Cluster));
        Assert.Equal(3, result.Result.ClusterCount);
        Assert.Contains(FormattableString.Invariant($"the {good.Images} images at or under the threshold are cluster {good.Cluster}"), run.Output);
        Assert.Equal("good-group-and-images", result.Root.GetProperty("mergeTreeTop").GetProperty("leaves").GetString());
        // The tree keeps the group whole at any other cut: the report's re-cut and a cut at K = 2 (the group against the rest).
        var two = result.Result.ClusterTree.CutToClusters(2);
        var images = result.Result.Images;
        var goodLabel = two[Enumerable.Range(0, images.Count).First(i => images[i].AnomalyScore <= threshold)];
        Assert.Equal(images.Select(image => image.AnomalyScore <= threshold), two.Select(label => label == goodLabel));
        Assert.Contains("detect, then cluster", File.ReadAllText(Path.Combine(out_, "report.html")));
    }

    [Fact]
    public void OutsideSemiSupervisedModeItIsAnInputError()
    {
        using var folder = new TempFolder();
        CliRun.InProcess(["cluster", MvtecFolder(folder), "--detect-then-cluster", "-k", "3", "-o", folder.Combine("out"), .. Small])
            .AssertOneLineError(CliExitCodes.InputError, "semi-supervised");
    }

    [Fact]
    public void MoreClustersThanTheImagesAboveTheThresholdAllowIsAnInputErrorThatGivesTheCounts()
    {
        using var folder = new TempFolder();
        CliRun.InProcess(["cluster", MvtecFolder(folder), "--mode", "semi-supervised", "--detect-then-cluster", "-k", "15", "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small])
            .AssertOneLineError(CliExitCodes.InputError, "score above the threshold");
    }
}
