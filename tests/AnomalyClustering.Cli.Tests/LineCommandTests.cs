using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Core.Lines;

namespace AnomalyClustering.Cli.Tests;

/// <summary>line create / show over the local store, and line evaluate on a labelled result.</summary>
public sealed class LineCommandTests
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64", "--tau", "0.5"];

    /// <summary>A labelled result: class folders good / hole / scratch, 4 images each.</summary>
    private static string ClusteredResult(TempFolder folder)
    {
        var images = folder.Combine("images");
        SyntheticImages.Write(Path.Combine(images, "good"), DefectType.Good, 4, seed: 1);
        SyntheticImages.Write(Path.Combine(images, "hole"), DefectType.Hole, 4, seed: 2);
        SyntheticImages.Write(Path.Combine(images, "scratch"), DefectType.Scratch, 4, seed: 3);
        var run = CliRun.InProcess(["cluster", images, "-o", folder.Combine("out"), "--store", folder.Combine("store"), .. Small]);
        Assert.True(run.ExitCode == 0, run.Error);
        return folder.Combine("out");
    }

    [Fact]
    public void CreateStoresVersionedCatalogsThatShowReads()
    {
        using var folder = new TempFolder();
        var result = ClusteredResult(folder);
        File.WriteAllText(folder.Combine("names.json"), "{\"0\": \"plain\", \"1\": \"holes\"}");
        Assert.Equal(0, CliRun.InProcess(["report", Path.Combine(result, "result.json"), "--names", folder.Combine("names.json")]).ExitCode);
        var store = folder.Combine("store");

        var first = CliRun.InProcess(["line", "create", "tiles", "--from-result", result, "--store", store]);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("version 1: 3 clusters from 12 images", first.Output);
        var second = CliRun.InProcess(["line", "create", "tiles", "--from-result", Path.Combine(result, "result.json"), "--store", store, "--acceptance-factor", "3"]);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("version 2", second.Output);

        using (var stream = File.OpenRead(Path.Combine(store, "blobs", "lines", "_", "tiles", "v1.json")))
        {
            var catalog = LineCatalogJson.Read(stream);
            Assert.Equal(1, catalog.Version);
            Assert.Equal(["plain", "holes", "cluster 2"], catalog.Clusters.Select(c => c.Name));
            Assert.Equal(12, catalog.Clusters.Sum(c => c.Size));
            Assert.Equal(64, catalog.EmbeddingDimension);
            Assert.Equal(Path.GetFullPath(Path.Combine(result, "result.json")), catalog.Source.OptionsReference);
        }

        var show = CliRun.InProcess(["line", "show", "tiles", "--store", store]);
        Assert.True(show.ExitCode == 0, show.Error);
        Assert.Contains("version 2 (versions 1, 2)", show.Output);
        Assert.Contains("3 x the cluster's spread", show.Output);
        Assert.Contains("holes", show.Output);
        Assert.Contains("D = 64; detection threshold", show.Output);
        Assert.Contains("acceptance radius", show.Output);
        var old = CliRun.InProcess(["line", "show", "tiles", "--version", "1", "--store", store]);
        Assert.True(old.ExitCode == 0, old.Error);
        Assert.Contains("version 1 (versions 1, 2)", old.Output);
        Assert.Contains("1.5 x the cluster's spread", old.Output);
        Assert.Contains("plain", old.Output);

        var third = CliRun.InProcess(["line", "create", "tiles", "--from-result", result, "--store", store]);
        Assert.True(third.ExitCode == 0, third.Error);
        Assert.Contains("version 3", third.Output);
        Assert.Equal(["v1.json", "v2.json", "v3.json"], Directory.GetFiles(Path.Combine(store, "blobs", "lines", "_", "tiles")).Select(Path.GetFileName).Order());
        CliRun.InProcess(["line", "show", "tiles", "--version", "4", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "line 'tiles' has no version 4; it has 1, 2, 3");
        CliRun.InProcess(["line", "show", "tiles", "--version", "0", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "--version must be 1 or more");
    }

    [Fact]
    public void UnknownLinesAndBadNamesAreInputErrors()
    {
        using var folder = new TempFolder();
        CliRun.InProcess(["line", "show", "nothing", "--store", folder.Path]).AssertOneLineError(CliExitCodes.InputError, "line 'nothing' does not exist");
        CliRun.InProcess(["line", "create", "../up", "--from-result", folder.Path, "--store", folder.Path]).AssertOneLineError(CliExitCodes.InputError, "not valid");
        CliRun.InProcess(["line", "show", "../up", "--store", folder.Path]).AssertOneLineError(CliExitCodes.InputError, "line name '../up' is not valid");
        CliRun.InProcess(["line", "create", "tiles", "--from-result", folder.Path, "--store", folder.Path]).AssertOneLineError(CliExitCodes.InputError, "does not exist");
        var notAResult = folder.WriteText("{\"hello\": 1}", "result.json");
        CliRun.InProcess(["line", "create", "tiles", "--from-result", notAResult, "--store", folder.Path]).AssertOneLineError(CliExitCodes.InputError, "is not a result.json of anomaly-cluster");
        CliRun.InProcess(["line", "create", "tiles", "--from-result", notAResult, "--store", folder.Path, "--acceptance-factor", "0"]).AssertOneLineError(CliExitCodes.InputError, "the acceptance factor is 0; it must be a positive finite number");
        CliRun.InProcess(["line", "evaluate", folder.Combine("missing.json")]).AssertOneLineError(CliExitCodes.InputError, "does not exist");
        CliRun.InProcess(["line", "evaluate", folder.Combine("missing.json"), "--margin", "1"]).AssertOneLineError(CliExitCodes.InputError, "the margin is 1; it must be a share in [0, 1)");
        Assert.False(Directory.Exists(folder.Combine("blobs", "lines")));
    }

    [Fact]
    public void EvaluatePrintsAccuracyAndNoveltyTables()
    {
        using var folder = new TempFolder();
        var result = ClusteredResult(folder);
        var run = CliRun.InProcess(["line", "evaluate", Path.Combine(result, "result.json"), "--seed", "3"]);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("split seed 3", run.Output);
        Assert.Contains("| images | labels | 6 / 6 |", run.Output);
        Assert.Contains("| images | labels | hole | 2 / 4 |", run.Output);
        Assert.Contains("| images | Ward cut, majority names | scratch |", run.Output);
        Assert.DoesNotContain("| good | 2 / 4", run.Output);
    }
}
