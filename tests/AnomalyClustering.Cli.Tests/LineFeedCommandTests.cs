using System.Text.Json;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing.Imaging;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// line feed without a server: an embedded silo decides a folder's images through the in-memory intake stream, against a
/// line made from an average-mode result; camera formats are decided, bad images get a logged error decision, unsupported
/// files are listed as left out, and feeding the folder again logs nothing twice.
/// </summary>
public sealed class LineFeedCommandTests
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64", "--mode", "average"];

    [Fact]
    public void FeedDecidesEachImageOnceListsWhatItLeftOutAndLogsNothingTwiceWhenFedAgain()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(Path.Combine(images, "good"), DefectType.Good, 3, seed: 1);
        SyntheticImages.Write(Path.Combine(images, "hole"), DefectType.Hole, 3, seed: 2);
        var store = folder.Combine("store");
        var clustered = CliRun.InProcess(["cluster", images, "-k", "2", "-o", folder.Combine("out"), "--store", store, .. Small]);
        Assert.True(clustered.ExitCode == 0, clustered.Error);
        var created = CliRun.InProcess(["line", "create", "plates", "--from-result", folder.Combine("out"), "--store", store]);
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Contains("takes new images here", created.Output);

        // The feed: two images the catalog was made from (their decision must be their own cluster), a new hole as a 16-bit
        // grey TIFF and as a 16-bit PNG, a file that is not an image, and one of a kind not read at all.
        var feed = folder.Combine("feed");
        var known = ResultJson.ClustersCsv(folder.Combine("out")).Take(2).ToList();
        foreach (var (image, _, _) in known)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(feed, image))!);
            File.Copy(Path.Combine(images, image), Path.Combine(feed, image));
        }
        var hole = new ImageDecoder().Decode(SyntheticSurfacePainter.PaintPng(DefectType.Hole, new Random(301)), "hole");
        folder.Write(CameraImageFiles.Tiff(hole.Width, hole.Height, 16, 1, (x, y, _) => hole.Pixels[(y * hole.Width + x) * 3] * 257), "feed", "camera", "new-hole.tiff");
        folder.Write(CameraImageFiles.GreyPng16(hole.Width, hole.Height, (x, y) => (ushort)(hole.Pixels[(y * hole.Width + x) * 3] * 257)), "feed", "camera", "new-hole.png");
        folder.Write([.. "this is not a picture"u8], "feed", "broken.png");
        folder.WriteText("camera 7, shift 2", "feed", "notes.txt");

        var first = CliRun.InProcess(["line", "feed", "plates", feed, "--store", store]);

        Assert.True(first.ExitCode == 0, first.Error + first.Output);
        Assert.Contains("5 images decided, 0 of them before this run; 1 files left out", first.Output);
        Assert.Contains("left out notes.txt (unsupported-file)", first.Output);
        Assert.True(first.Output.Contains("broken.png (not-an-image)", StringComparison.Ordinal), first.Output);
        var decisions = LoggedDecisions(store);
        Assert.Equal(5, decisions.Count);
        Assert.Equal(5, decisions.Select(d => d.GetProperty("imageId").GetString()).Distinct().Count());
        var byFile = decisions.ToDictionary(d => d.GetProperty("fileName").GetString()!);
        Assert.Equal("error", byFile["broken.png"].GetProperty("decision").GetString());
        Assert.Equal("not-an-image", byFile["broken.png"].GetProperty("error").GetProperty("reason").GetString());
        foreach (var (image, cluster, _) in known)
        {
            // The same bytes as a member of cluster k: its embedding is that member's, so cluster k is its nearest.
            Assert.Equal($"cluster {cluster}", byFile[image].GetProperty("nearest").GetString());
        }
        foreach (var camera in new[] { "camera/new-hole.tiff", "camera/new-hole.png" })
        {
            Assert.Equal(2, byFile[camera].GetProperty("distances").EnumerateObject().Count());
            Assert.Equal(JsonValueKind.Null, byFile[camera].GetProperty("error").ValueKind);
        }

        var again = CliRun.InProcess(["line", "feed", "plates", feed, "--store", store]);

        Assert.True(again.ExitCode == 0, again.Error + again.Output);
        Assert.Contains("5 images decided, 5 of them before this run; 1 files left out", again.Output);
        Assert.Equal(5, LoggedDecisions(store).Count);
    }

    [Fact]
    public void FeedRefusesALineThatCannotDecideImagesHereAndAMissingFolder()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(Path.Combine(images, "good"), DefectType.Good, 2, seed: 5);
        SyntheticImages.Write(Path.Combine(images, "hole"), DefectType.Hole, 2, seed: 6);
        var store = folder.Combine("store");
        // The default (unsupervised) mode: line create embeds the job's reference images again, from the folder the result
        // names; a result whose images are gone makes a line that cannot decide images here.
        var clustered = CliRun.InProcess(["cluster", images, "-k", "2", "-o", folder.Combine("out"), "--store", store, "--pretrain-dim", "64", "--target-dim", "64"]);
        Assert.True(clustered.ExitCode == 0, clustered.Error);
        Directory.Move(images, folder.Combine("moved"));
        images = folder.Combine("moved");
        var created = CliRun.InProcess(["line", "create", "plates", "--from-result", folder.Combine("out"), "--store", store]);
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Contains("line feed cannot decide new images of this version here", created.Output);

        CliRun.InProcess(["line", "feed", "plates", images, "--store", store]).AssertOneLineError(CliExitCodes.InputError, "cannot decide new images here");
        CliRun.InProcess(["line", "feed", "plates", folder.Combine("missing"), "--store", store]).AssertOneLineError(CliExitCodes.InputError, "does not exist");
        CliRun.InProcess(["line", "feed", "nothing", images, "--store", store]).AssertOneLineError(CliExitCodes.InputError, "does not exist");
        CliRun.InProcess(["line", "feed", "plates", images, "--token", "t"]).AssertOneLineError(CliExitCodes.InputError, "go with --server");
    }

    /// <summary>
    /// The line's decision log as its Parquet parts hold it: the embedded silo's log grain writes its buffered decisions as a
    /// part when the feed stops the silo (deactivation), so every decision of the run is in a part by now.
    /// </summary>
    private static List<JsonElement> LoggedDecisions(string store)
    {
        var slice = LineDecisionLog.PageAsync(new LocalDirectoryBlobStore(store), "lines/_/plates/", null, null, 1000, null, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Null(slice.Next);
        return [.. slice.Decisions.Select(d => JsonSerializer.SerializeToElement(d, LineImageDecider.LogJson))];
    }
}
