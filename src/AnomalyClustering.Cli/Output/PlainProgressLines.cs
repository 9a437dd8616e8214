using System.Diagnostics;
using System.Globalization;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Cli.Output;

/// <summary>
/// A pipeline's progress as plain whole lines, for output that is not a terminal: each stage's start, every tenth of
/// its work and its end, each line once, written whole with <see cref="TextWriter.WriteLine(string)"/> (no redraw, no
/// wrapping at a console width), from whichever thread reports.
/// </summary>
internal sealed class PlainProgressLines(TextWriter output) : IProgress<PipelineProgress>
{
    private readonly Lock _lock = new();
    private readonly List<Stage> _stages = [];

    /// <inheritdoc />
    public void Report(PipelineProgress value)
    {
        lock (_lock)
        {
            var stage = _stages.Find(s => s.Id == value.Stage);
            if (stage is null)
            {
                // A new stage means the earlier ones are done, even if their last report was skipped.
                foreach (var earlier in _stages)
                {
                    Complete(earlier);
                }
                stage = new Stage(value.Stage);
                _stages.Add(stage);
                Write(stage, value.Total > 0 ? Invariant($"started, {value.Total} to do") : "started");
            }
            if (stage.Done || value.Total <= 0)
            {
                return;
            }
            stage.Total = value.Total;
            var completed = Math.Clamp(value.Completed, 0, value.Total);
            if (completed == value.Total)
            {
                Complete(stage);
                return;
            }
            var tenth = (int)(completed * 10L / value.Total);
            if (tenth > stage.LastTenth)
            {
                stage.LastTenth = tenth;
                Write(stage, Invariant($"{tenth * 10} % ({completed}/{value.Total})"));
            }
        }
    }

    /// <summary>Ends every stage not yet ended (the work returned).</summary>
    public void CompleteAll()
    {
        lock (_lock)
        {
            foreach (var stage in _stages)
            {
                Complete(stage);
            }
        }
    }

    private void Complete(Stage stage)
    {
        if (stage.Done)
        {
            return;
        }
        stage.Done = true;
        var count = stage.Total > 0 ? Invariant($"{stage.Total}/{stage.Total} ") : string.Empty;
        Write(stage, Invariant($"done, {count}in {stage.Clock.Elapsed.TotalSeconds:F1} s"));
    }

    private void Write(Stage stage, string what)
    {
        output.WriteLine($"{PipelineProgressDisplay.Describe(stage.Id)}: {what}");
        output.Flush();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class Stage(PipelineStage id)
    {
        public PipelineStage Id { get; } = id;
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
        public long Total { get; set; }
        public int LastTenth { get; set; }
        public bool Done { get; set; }
    }
}
