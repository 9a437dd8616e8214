using AnomalyClustering.Jobs;
using Spectre.Console;

namespace AnomalyClustering.Cli.Output;

/// <summary>
/// Shows a clustering job's progress as Spectre progress bars, one per stage, fed by the
/// pipeline's <see cref="IProgress{T}"/> reports (which may come from several threads).
/// </summary>
internal sealed class PipelineProgressDisplay : IProgress<PipelineProgress>
{
    private readonly ProgressContext _context;
    private readonly Dictionary<PipelineStage, ProgressTask> _tasks = [];
    private readonly Lock _lock = new();

    private PipelineProgressDisplay(ProgressContext context) => _context = context;

    /// <summary>
    /// Runs <paramref name="work"/> while showing its progress on <paramref name="console"/>: live bars on a terminal,
    /// whole plain lines (see <see cref="PlainProgressLines"/>) when the console is not interactive (output redirected
    /// to a file or pipe, tests), where a live display would redraw, interleave and wrap at a made-up width.
    /// </summary>
    public static T Run<T>(IAnsiConsole console, Func<IProgress<PipelineProgress>, T> work)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            var lines = new PlainProgressLines(console.Profile.Out.Writer);
            var result = work(lines);
            lines.CompleteAll();
            return result;
        }
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var display = new PipelineProgressDisplay(context);
                var result = work(display);
                display.CompleteAll();
                return result;
            });
    }

    private void CompleteAll()
    {
        lock (_lock)
        {
            foreach (var task in _tasks.Values)
            {
                task.IsIndeterminate = false;
                task.Value = task.MaxValue;
            }
        }
    }

    /// <summary>What each stage is called on screen.</summary>
    public static string Describe(PipelineStage stage) => stage switch
    {
        PipelineStage.EmbedNormalImages => "embedding normal images",
        PipelineStage.EmbedImages => "embedding reference images",
        PipelineStage.WeightPatches => "embedding and weighing images",
        PipelineStage.Cluster => "clustering",
        _ => stage.ToString(),
    };

    /// <inheritdoc />
    public void Report(PipelineProgress value)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(value.Stage, out var task))
            {
                // A new stage means the earlier ones are done, even if their last report was skipped.
                foreach (var earlier in _tasks.Values)
                {
                    earlier.IsIndeterminate = false;
                    earlier.Value = earlier.MaxValue;
                }
                task = _context.AddTask(Describe(value.Stage), autoStart: true, maxValue: Math.Max(1, value.Total));
                _tasks[value.Stage] = task;
            }
            // Total 0: the stage cannot count its work (one library call); show activity instead of 0 %.
            task.IsIndeterminate = value.Total == 0;
            task.MaxValue = Math.Max(1, value.Total);
            task.Value = value.Total == 0 ? 0 : value.Completed;
        }
    }
}
