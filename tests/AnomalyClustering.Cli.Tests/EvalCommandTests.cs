using System.Globalization;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cli.Tests;

/// <summary>eval over a folder of MVTec-layout categories: per-job rows equal to cluster runs, weighted averages, skipped modes, errors.</summary>
public sealed class EvalCommandTests
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64"];

    [Fact]
    public void EvaluatesEveryCategoryAndModeAsTheClusterCommandWouldAndAveragesByImageCount()
    {
        using var folder = new TempFolder();
        var root = folder.Combine("datasets");
        // Two categories of different sizes (9 and 12 images); the second has no train/good, so no semi-supervised job.
        SyntheticProductLine.Write(root, new SyntheticProductLineOptions { ProductName = "plates_a", ImagesPerClass = 3, DefectTypes = [DefectType.Scratch, DefectType.Hole], NormalTrainingImages = 4, Seed = 1 });
        SyntheticProductLine.Write(root, new SyntheticProductLineOptions { ProductName = "plates_b", ImagesPerClass = 4, DefectTypes = [DefectType.Stain, DefectType.Crack], Seed = 2 });
        Directory.Delete(Path.Combine(root, "plates_b", "train"), recursive: true);
        var output = folder.Combine("eval");

        var run = CliRun.InProcess(["eval", root, "--modes", "unsupervised", "semi-supervised", "--tau", "0.5", "-o", output, "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(output, "eval.csv"));
        Assert.Equal("category,group,mode,tau,images,classes,failed_images,nmi,ari,f1,embed_s,weight_s,cluster_s,wall_s,image_auroc,pixel_auroc,pro", rows[0]);
        var jobs = rows.Skip(1).Select(line => line.Split(',')).ToList();
        Assert.Equal(["plates_a unsupervised", "plates_a semi-supervised", "plates_b unsupervised"], jobs.Select(j => $"{j[0]} {j[2]}"));
        Assert.Equal(["9", "9", "12"], jobs.Select(j => j[4]));
        Assert.All(jobs, j => Assert.Equal("0.5", j[3]));
        var markdown = File.ReadAllText(Path.Combine(output, "eval.md"));
        Assert.Contains("Not run: plates_b semi-supervised (no normal images in train/good)", markdown);
        Assert.Contains("anomaly-cluster eval", markdown);

        // Each row is the job's own result.json, and the same clustering as a cluster run with the same options.
        foreach (var job in jobs)
        {
            using var result = ResultJson.Load(Path.Combine(output, job[0], $"{job[2]}-tau0.5"));
            Assert.Equal(double.Parse(job[7], CultureInfo.InvariantCulture), result.Metric("nmi"));
            Assert.Equal(double.Parse(job[9], CultureInfo.InvariantCulture), result.Metric("f1"));
            // The detection column is the job's image AUROC (the synthetic line has a good class).
            Assert.Equal(double.Parse(job[14], CultureInfo.InvariantCulture), result.Root.GetProperty("detection").GetProperty("imageAuroc").GetDouble());
        }
        var cluster = CliRun.InProcess(["cluster", Path.Combine(root, "plates_a"), "--mode", "semi-supervised", "--tau", "0.5", "-o", folder.Combine("cluster"), "--store", folder.Combine("store"), .. Small]);
        Assert.True(cluster.ExitCode == 0, cluster.Error);
        Assert.Equal(ResultJson.ClustersCsv(folder.Combine("cluster")), ResultJson.ClustersCsv(Path.Combine(output, "plates_a", "semi-supervised-tau0.5")));

        // The unsupervised average weighs plates_b (12 images) over plates_a (9).
        var (a, b) = (double.Parse(jobs[0][7], CultureInfo.InvariantCulture), double.Parse(jobs[2][7], CultureInfo.InvariantCulture));
        var expected = ((a * 9) + (b * 12)) / 21;
        Assert.Contains(FormattableString.Invariant($"| all | unsupervised | 0.5 | 2 | 21 | {expected:F3} |"), markdown);
        Assert.Contains(FormattableString.Invariant($"| all | semi-supervised | 0.5 | 1 | 9 | {double.Parse(jobs[1][7], CultureInfo.InvariantCulture):F3} |"), markdown);
    }

    [Fact]
    public void OneDatasetFolderIsOneCategoryAndReportsAreWrittenOnRequest()
    {
        using var folder = new TempFolder();
        var summary = SyntheticProductLine.Write(folder.Path, new SyntheticProductLineOptions { ImagesPerClass = 2, DefectTypes = [DefectType.Hole], Seed = 3 });

        var run = CliRun.InProcess(["eval", summary.Root, "--modes", "average", "-o", folder.Combine("eval"), "--store", folder.Combine("store"), "--reports", .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        var rows = File.ReadAllLines(folder.Combine("eval", "eval.csv"));
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("metal_plate,other,average,0.3,4,2,0,", rows[1]);
        Assert.True(File.Exists(folder.Combine("eval", "metal_plate", "average-tau0.3", "report.html")));
    }

    [Fact]
    public void AClassWithoutAUsableImageIsWarnedOfBeforeTheJobsScoresAndKeptInItsResult()
    {
        // eval printed scores over fewer classes than the folder has without saying so, as cluster once did.
        using var folder = new TempFolder();
        var summary = SyntheticProductLine.Write(folder.Path, new SyntheticProductLineOptions { ImagesPerClass = 3, DefectTypes = [DefectType.Hole, DefectType.Scratch], Seed = 4 });
        folder.Write([.. "this is not a picture"u8], summary.Root, "test", "bent", "000.png");

        var run = CliRun.InProcess(["eval", summary.Root, "--modes", "average", "-o", folder.Combine("eval"), "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var output = string.Join(" ", run.Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("warning: class 'bent' (1 file) has no image that could be used", output, StringComparison.Ordinal);
        Assert.True(output.IndexOf("warning: class 'bent'", StringComparison.Ordinal) < output.IndexOf("NMI", StringComparison.Ordinal));
        using var result = ResultJson.Load(folder.Combine("eval", "metal_plate", "average-tau0.3"));
        var warning = Assert.Single(result.Root.GetProperty("warnings").EnumerateArray().ToArray());
        Assert.Equal("class-without-images", warning.GetProperty("code").GetString());
    }

    [Fact]
    public void MasksThatCannotAllBeUsedAreWarnedOfBeforeTheJobsScoresAndKeptInItsResult()
    {
        // eval printed the mask problem as a bare line and left it out of the job's result.json, unlike cluster.
        using var folder = new TempFolder();
        var summary = SyntheticProductLine.Write(folder.Path, new SyntheticProductLineOptions { ImagesPerClass = 2, DefectTypes = [DefectType.Hole], Seed = 3 });
        // A ground_truth folder without the defective images' masks.
        Directory.CreateDirectory(Path.Combine(summary.Root, "ground_truth", "hole"));

        var run = CliRun.InProcess(["eval", summary.Root, "--modes", "average", "-o", folder.Combine("eval"), "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var output = string.Join(" ", run.Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("warning: 2 defective images have no mask in ground_truth/<class>/", output, StringComparison.Ordinal);
        Assert.True(output.IndexOf("warning: 2 defective images", StringComparison.Ordinal) < output.IndexOf("NMI", StringComparison.Ordinal));
        using var result = ResultJson.Load(folder.Combine("eval", "metal_plate", "average-tau0.3"));
        var warning = Assert.Single(result.Root.GetProperty("warnings").EnumerateArray().ToArray());
        Assert.Equal("mask-unusable", warning.GetProperty("code").GetString());
        Assert.StartsWith("2 defective images have no mask", warning.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownCategoryIsAnInputErrorNamingTheCategoriesThere()
    {
        using var folder = new TempFolder();
        SyntheticProductLine.Write(folder.Path, new SyntheticProductLineOptions { ImagesPerClass = 2, DefectTypes = [DefectType.Hole], Seed = 3 });
        CliRun.InProcess(["eval", folder.Path, "--categories", "bottle"]).AssertOneLineError(CliExitCodes.InputError, "no category 'bottle'");
        CliRun.InProcess(["eval", folder.Path, "--categories", "bottle"]).AssertOneLineError(CliExitCodes.InputError, "it has metal_plate");
    }

    [Fact]
    public void FolderWithoutDatasetsIsAnInputError()
    {
        using var folder = new TempFolder();
        folder.WriteText("x", "notes", "readme.txt");
        CliRun.InProcess(["eval", folder.Path]).AssertOneLineError(CliExitCodes.InputError, "not an MVTec-layout dataset");
    }

    [Fact]
    public void UnknownModeIsAUsageError()
    {
        using var folder = new TempFolder();
        Assert.Equal(CliExitCodes.UsageError, CliRun.InProcess(["eval", folder.Path, "--modes", "supervised"]).ExitCode);
    }
}
