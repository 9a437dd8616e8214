using System.Diagnostics;
using System.Globalization;
using AnomalyClustering.Abstractions.Telemetry;

namespace AnomalyClustering.Benchmarks.ScaleSimulation;

/// <summary>
/// A time series of the process's memory (RSS, managed heap, GC committed, collections per generation) every 200 ms, with
/// the product's <c>cluster</c> span start and stop and the benchmark's own marks between the samples: which step of the
/// clustering stage makes the peak (the peaks alone cannot say). Written as tab-separated lines to a file.
/// </summary>
internal sealed class MemoryTrace : IAsyncDisposable
{
    private readonly StreamWriter _writer;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ActivityListener _spans;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private readonly Lock _gate = new();

    public MemoryTrace(string path)
    {
        _writer = new StreamWriter(path) { AutoFlush = true };
        _writer.WriteLine("seconds\trss_mib\tmanaged_mib\theap_size_mib\tcommitted_mib\tgen0\tgen1\tgen2\tmark");
        // Only the coordinator's clustering span: listening to every span would create one per image.
        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TelemetryNames.Source,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Name == "cluster" ? ActivitySamplingResult.AllData : ActivitySamplingResult.None,
            ActivityStarted = activity => Mark($"{activity.OperationName} start"),
            ActivityStopped = activity => Mark($"{activity.OperationName} stop"),
        };
        ActivitySource.AddActivityListener(_spans);
        _sampling = Task.Run(SampleAsync);
    }

    /// <summary>Writes a sample labelled <paramref name="mark"/> now.</summary>
    public void Mark(string mark) => Write(mark);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sampling.ConfigureAwait(false);
        _spans.Dispose();
        await _writer.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Write("");
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private void Write(string mark)
    {
        var info = GC.GetGCMemoryInfo();
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{_clock.Elapsed.TotalSeconds:F1}\t{Mib(Environment.WorkingSet)}\t{Mib(GC.GetTotalMemory(false))}\t{Mib(info.HeapSizeBytes)}\t{Mib(info.TotalCommittedBytes)}\t"
            + $"{GC.CollectionCount(0)}\t{GC.CollectionCount(1)}\t{GC.CollectionCount(2)}\t{mark}");
        lock (_gate)
        {
            _writer.WriteLine(line);
        }
    }

    private static long Mib(long bytes) => bytes / (1024 * 1024);
}
