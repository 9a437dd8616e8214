using AnomalyClustering.Grains.Jobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A stopped run still waits for its image calls (<see cref="ImageCallWatchdog"/>): the image grain writes its outcome blob
/// when the call ends, so a caller that stopped listening at once (a deletion that then sweeps the job's blobs) found an
/// outcome blob written after its sweep (a CI run of <c>DeletingARunningJobStopsItBeforeItsBlobsGo</c>). The wait is
/// bounded by the stop grace (the stopper waits within a grain call's timeout) and, as for any call, by the stall timeout.
/// </summary>
public sealed class ImageCallWatchdogTests
{
    [Fact]
    public async Task AStoppedRunWaitsForItsCallToEndThenStops()
    {
        var watchdog = new ImageCallWatchdog(TimeSpan.FromMinutes(10), NullLogger.Instance, "test run");
        var call = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var watching = watchdog.WatchAsync(call.Task, "image-1", stop.Token);

        await stop.CancelAsync();
        // Nothing can end the wait now but the call itself: give a wrongly cancelled wait time to show.
        await Task.WhenAny(watching, Task.Delay(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken));
        Assert.False(watching.IsCompleted, "the wait ended while the image call was still running");

        call.SetResult(7);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Fact]
    public async Task AStoppedRunGivesUpACallThatOutlastsTheGrace()
    {
        var watchdog = new ImageCallWatchdog(TimeSpan.FromMinutes(10), NullLogger.Instance, "test run", stopGrace: TimeSpan.FromMilliseconds(200));
        var call = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var watching = watchdog.WatchAsync(call.Task, "image-1", stop.Token);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
        Assert.False(call.Task.IsCompleted);
    }

    [Fact]
    public async Task ARunningRunGetsTheCallsAnswer()
    {
        var watchdog = new ImageCallWatchdog(TimeSpan.FromMinutes(10), NullLogger.Instance, "test run");
        var call = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watching = watchdog.WatchAsync(call.Task, "image-1", CancellationToken.None);
        call.SetResult(7);
        Assert.Equal(7, await watching);
    }

    [Fact]
    public async Task ALostCallIsGivenUpAtTheStallTimeout()
    {
        var watchdog = new ImageCallWatchdog(TimeSpan.FromMilliseconds(200), NullLogger.Instance, "test run");
        var lost = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stalled = await Assert.ThrowsAsync<ImageCallStalledException>(() => watchdog.WatchAsync(lost.Task, "image-1", CancellationToken.None));
        Assert.Contains("image-1", stalled.Message);
    }
}
