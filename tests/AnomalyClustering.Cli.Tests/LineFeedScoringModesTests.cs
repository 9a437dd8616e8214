using System.Text.Json;
using AnomalyClustering.Cli.Demo;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// <c>line feed</c> without a server for lines of the unsupervised and semi-supervised modes: <c>line create</c> embeds the
/// job's reference images or normal bank again and stores them with the catalog, so that a fed image is scored as the job
/// scored it. The check: an image the job clustered, fed to the line, gets the job's own anomaly score (semi-supervised:
/// every image, the same normal bank; unsupervised: every image outside the reference pool, whose references are the
/// job's for it too).
/// </summary>
public sealed class LineFeedScoringModesTests
{
    [Theory]
    [InlineData("semi-supervised", new[] { "--normal-limit", "3" })]
    [InlineData("unsupervised", new[] { "--refs", "2" })]
    public void AFedImageGetsTheScoreItsJobGaveIt(string mode, string[] modeOptions)
    {
        using var folder = new TempFolder();
        var dataset = folder.Combine("dataset");
        SyntheticImages.Write(Path.Combine(dataset, "test", "good"), DefectType.Good, 4, seed: 31);
        SyntheticImages.Write(Path.Combine(dataset, "test", "hole"), DefectType.Hole, 4, seed: 32);
        SyntheticImages.Write(Path.Combine(dataset, "train", "good"), DefectType.Good, 4, seed: 33);
        var store = folder.Combine("store");
        var clustered = CliRun.InProcess(["cluster", dataset, "-k", "2", "-o", folder.Combine("out"), "--store", store,
            "--pretrain-dim", "64", "--target-dim", "64", "--mode", mode, .. modeOptions]);
        Assert.True(clustered.ExitCode == 0, clustered.Error + clustered.Output);
        var created = CliRun.InProcess(["line", "create", "tiles", "--from-result", folder.Combine("out"), "--store", store]);
        Assert.True(created.ExitCode == 0, created.Error + created.Output);
        Assert.Contains("takes new images here", created.Output);

        var fed = CliRun.InProcess(["line", "feed", "tiles", Path.Combine(dataset, "test"), "--store", store]);

        Assert.True(fed.ExitCode == 0, fed.Error + fed.Output);
        Assert.Contains("8 images decided, 0 of them before this run; 0 files left out", fed.Output);
        Assert.Contains("errors: 0", fed.Output);
        var lineFolder = Path.Combine(store, "blobs", "lines", "_", "tiles");
        using var catalog = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(lineFolder, "v1.json")));
        var scoring = catalog.RootElement.GetProperty("scoring");
        var bank = mode == "semi-supervised" ? scoring.GetProperty("normalFeatureBlobs") : scoring.GetProperty("referenceFeatureBlobs");
        Assert.Equal(mode == "semi-supervised" ? 3 : 3, bank.GetArrayLength());
        Assert.All(bank.EnumerateArray(), blob => Assert.StartsWith("lines/_/tiles/bank/v1/", blob.GetString()));
        var pool = scoring.GetProperty("referenceImages").EnumerateArray().Select(index => index.GetInt32()).ToHashSet();
        using var job = ResultJson.Load(folder.Combine("out"));
        var scoresByFile = job.Result.Images.Select((image, index) => (image, index))
            .Where(pair => !pool.Contains(pair.index))
            .ToDictionary(pair => Path.GetFileName(pair.image.Id), pair => pair.image.AnomalyScore!.Value);
        Assert.True(scoresByFile.Count >= 5, $"{scoresByFile.Count} images to compare");
        var decisions = Directory.GetFiles(Path.Combine(lineFolder, "decided"), "*.json")
            .Select(file => JsonDocument.Parse(File.ReadAllBytes(file)).RootElement.Clone())
            .ToDictionary(decision => Path.GetFileName(decision.GetProperty("fileName").GetString()!));
        Assert.Equal(8, decisions.Count);
        foreach (var (file, score) in scoresByFile)
        {
            Assert.Equal(score, decisions[file].GetProperty("anomalyScore").GetDouble(), 1e-4 * Math.Max(1, Math.Abs(score)));
        }
    }
}
