using System.Text.RegularExpressions;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Cli.Output;
using AnomalyClustering.Jobs;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cli.Tests;

/// <summary>Progress written to a file or pipe: whole plain lines, each once, no live redraw, no wrapping.</summary>
public sealed partial class RedirectedProgressTests
{
    private static readonly string[] StageNames = ["embedding normal images", "embedding reference images", "embedding and weighing images", "clustering"];

    [GeneratedRegex(@"^(embedding normal images|embedding reference images|embedding and weighing images|clustering): (started(, \d+ to do)?|\d+ % \(\d+/\d+\)|done, (\d+/\d+ )?in \d+\.\d s)$")]
    private static partial Regex ProgressLine();

    [Fact]
    public void ARedirectedClusterRunPrintsEachProgressLineWholeAndOnce()
    {
        using var folder = new TempFolder();
        var images = folder.Combine("images");
        SyntheticImages.Write(images, DefectType.Good, 3, seed: 1);
        SyntheticImages.Write(images, DefectType.Hole, 3, seed: 2);

        // The built executable with its standard output redirected to a pipe, as in `anomaly-cluster ... > log`.
        // An output folder whose "wrote ..." line is longer than any terminal: it must come as one line, not wrapped.
        var output = folder.Combine("out", new string('o', 80), "results");
        var run = CliRun.Executable("cluster", images, "-k", "2", "-o", output, "--store", folder.Combine("store"),
            "--pretrain-dim", "64", "--target-dim", "64", "--tau", "0.5");

        Assert.True(run.ExitCode == 0, run.Error);
        AssertWholeLines(run.Output);
        var lines = run.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Contains($"wrote {Path.Combine(output, "clusters.csv")} and {Path.Combine(output, "result.json")}", lines);
        Assert.Contains("embedding and weighing images: started, 6 to do", lines);
        Assert.Contains(lines, l => l.StartsWith("clustering: done", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', run.Output);
    }

    [Fact]
    public void ReportsFromManyThreadsGiveWholeLinesInOrderEachOnce()
    {
        var output = new StringWriter();
        var lines = new PlainProgressLines(output);

        Parallel.For(0, 1000, i => lines.Report(new PipelineProgress(PipelineStage.EmbedImages, i + 1, 1000)));
        lines.Report(new PipelineProgress(PipelineStage.WeightPatches, 0, 0));
        lines.Report(new PipelineProgress(PipelineStage.Cluster, 0, 1));
        lines.CompleteAll();

        AssertWholeLines(output.ToString());
        var text = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("embedding reference images: started, 1000 to do", text[0]);
        Assert.StartsWith("embedding reference images: done, 1000/1000 in ", text.Single(l => l.StartsWith("embedding reference images: done", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(["embedding reference images: started, 1000 to do", "embedding and weighing images: started", "clustering: started, 1 to do"],
            text.Where(l => l.Contains(": started", StringComparison.Ordinal)));
        Assert.Single(text, l => l.StartsWith("embedding and weighing images: done", StringComparison.Ordinal));
        Assert.Single(text, l => l.StartsWith("clustering: done", StringComparison.Ordinal));
    }

    [Fact]
    public void TheReferenceStageCountsTowardsItsOwnTotal()
    {
        // Unsupervised, the stage embeds the reference sample (every image with --refs 0): before, the total shown was the
        // normal bank's, 0 there, so a run of thousands of images showed no count at all until the stage was done.
        var reports = new CollectedProgress();
        JobStatusProgress.Report(new AnomalyClustering.Abstractions.Jobs.JobStatus { JobId = "j", State = AnomalyClustering.Abstractions.Jobs.JobState.Embedding, TotalImages = 400, EmbeddedImages = 55, ReferenceImagesToEmbed = 400 }, reports);
        // Semi-supervised: the normal bank.
        JobStatusProgress.Report(new AnomalyClustering.Abstractions.Jobs.JobStatus { JobId = "j", State = AnomalyClustering.Abstractions.Jobs.JobState.Embedding, TotalImages = 400, TotalNormalImages = 64, EmbeddedImages = 10, ReferenceImagesToEmbed = 64 }, reports);
        // A failed reference replaced by the next candidate: the count passes the total, which follows it.
        JobStatusProgress.Report(new AnomalyClustering.Abstractions.Jobs.JobStatus { JobId = "j", State = AnomalyClustering.Abstractions.Jobs.JobState.Embedding, TotalImages = 400, EmbeddedImages = 18, ReferenceImagesToEmbed = 17 }, reports);

        Assert.Equal([(55, 400), (10, 64), (18, 18)], reports.Items.Select(p => (p.Completed, p.Total)));
        Assert.All(reports.Items, p => Assert.Equal(PipelineStage.EmbedImages, p.Stage));
    }

    private sealed class CollectedProgress : IProgress<PipelineProgress>
    {
        public List<PipelineProgress> Items { get; } = [];

        public void Report(PipelineProgress value) => Items.Add(value);
    }

    /// <summary>Every line that names a stage is one whole progress line, and no line appears twice.</summary>
    private static void AssertWholeLines(string output)
    {
        var progress = output.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => StageNames.Any(name => l.StartsWith(name + ":", StringComparison.Ordinal) || l.Contains(name + ":", StringComparison.Ordinal)))
            .ToArray();
        Assert.NotEmpty(progress);
        Assert.All(progress, line => Assert.Matches(ProgressLine(), line));
        Assert.Equal(progress.Length, progress.Distinct(StringComparer.Ordinal).Count());
    }
}
