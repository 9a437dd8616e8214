using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cli.Tests;

/// <summary>report.html from cluster and from the report command; cluster names from names.json; the errors users cause.</summary>
public sealed class ReportCommandTests
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64", "--tau", "0.5"];

    [Fact]
    public void ClusterWritesAReportAndStoresNamesFromNamesJson()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("data", "good"), DefectType.Good, 3, seed: 3);
        SyntheticImages.Write(folder.Combine("data", "hole"), DefectType.Hole, 3, seed: 4);
        var names = folder.WriteText("{\"1\": \"round hole\"}", "names.json");

        var run = CliRun.InProcess(["cluster", folder.Combine("data"), "-o", folder.Combine("out"), "--names", names, "--store", folder.Combine("store"), .. Small]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("report.html", run.Output);
        var html = File.ReadAllText(folder.Combine("out", "report.html"));
        Assert.Contains("<span class=\"cluster-name\" data-name-of=\"1\">round hole</span>", html);
        Assert.Equal(12, Directory.GetFiles(folder.Combine("out", "thumbnails")).Length);
        using var result = ResultJson.Load(folder.Combine("out"));
        Assert.Equal("round hole", result.Root.GetProperty("clusterNames").GetProperty("1").GetString());
        Assert.All(result.Result.Images, image => Assert.Equal(64, image.Embedding!.Length));
        var csv = File.ReadAllLines(folder.Combine("out", "clusters.csv"));
        Assert.Equal("image,cluster,label,cluster_name,anomaly_score", csv[0]);
        Assert.All(csv.Skip(1), line => Assert.Equal(line.Split(',')[1] == "1" ? "round hole" : string.Empty, line.Split(',')[3]));
        Assert.All(csv.Skip(1), line => Assert.True(double.Parse(line.Split(',')[4], CultureInfo.InvariantCulture) >= 0, line));
    }

    [Fact]
    public void ReportRewritesThePageFromResultJsonWithNewNames()
    {
        using var folder = new TempFolder();
        SyntheticImages.Write(folder.Combine("data", "good"), DefectType.Good, 2, seed: 5);
        SyntheticImages.Write(folder.Combine("data", "stain"), DefectType.Stain, 2, seed: 6);
        Assert.Equal(0, CliRun.InProcess(["cluster", folder.Combine("data"), "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small]).ExitCode);
        var names = folder.WriteText("{\"0\": \"stain <a>\"}", "names.json");

        // The result folder stands for its result.json (what cluster's -o named).
        var run = CliRun.InProcess(["report", folder.Combine("out"), "--names", names, "-o", folder.Combine("report")]);

        Assert.True(run.ExitCode == 0, run.Error);
        var html = File.ReadAllText(folder.Combine("report", "report.html"));
        Assert.Contains("data-name-of=\"0\">stain &lt;a&gt;</span>", html);
        Assert.DoesNotContain("stain <a>", html);
        using var result = ResultJson.Load(folder.Combine("out"));
        Assert.Equal("stain <a>", result.Root.GetProperty("clusterNames").GetProperty("0").GetString());
    }

    [Fact]
    public void ReportErrorsAreOneLine()
    {
        using var folder = new TempFolder();
        CliRun.InProcess(["report", folder.Combine("missing.json")]).AssertOneLineError(CliExitCodes.InputError, "does not exist");
        var notAResult = folder.WriteText("{\"hello\": 1}", "result.json");
        CliRun.InProcess(["report", notAResult]).AssertOneLineError(CliExitCodes.InputError, "is not a result.json");
        // Not the dictionary's "The given key was not present".
        CliRun.InProcess(["report", folder.WriteText("{}", "empty.json")]).AssertOneLineError(CliExitCodes.InputError, "a member every result has is missing");

        SyntheticImages.Write(folder.Combine("data", "good"), DefectType.Good, 2, seed: 7);
        SyntheticImages.Write(folder.Combine("data", "hole"), DefectType.Hole, 2, seed: 8);
        Assert.Equal(0, CliRun.InProcess(["cluster", folder.Combine("data"), "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small]).ExitCode);
        var result = folder.Combine("out", "result.json");
        CliRun.InProcess(["report", folder.Combine("data")]).AssertOneLineError(CliExitCodes.InputError, "is a folder without a result.json");
        var tooHigh = folder.WriteText("{\"9\": \"crack\"}", "high.json");
        CliRun.InProcess(["report", result, "--names", tooHigh]).AssertOneLineError(CliExitCodes.InputError, "cluster 9, but the result has 2 clusters");
        var notAnIndex = folder.WriteText("{\"first\": \"crack\"}", "word.json");
        CliRun.InProcess(["report", result, "--names", notAnIndex]).AssertOneLineError(CliExitCodes.InputError, "'first' is not one");
        var broken = folder.WriteText("{\"0\": ", "broken.json");
        CliRun.InProcess(["report", result, "--names", broken]).AssertOneLineError(CliExitCodes.InputError, "not valid JSON");
        CliRun.InProcess(["cluster", folder.Combine("data"), "--names", tooHigh, .. Small]).AssertOneLineError(CliExitCodes.InputError, "cluster 9, but the result has 2 clusters");
        using var unchanged = ResultJson.Load(folder.Combine("out"));
        Assert.Equal(JsonValueKind.Object, unchanged.Root.GetProperty("clusterNames").ValueKind);
        Assert.Empty(unchanged.Root.GetProperty("clusterNames").EnumerateObject());
    }
}
