using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// Gives up on an image call that waits while nothing of its run moves: once a call has waited
/// <see cref="CoordinatorOptions.ImageCallStallTimeout"/> and no other call of the same run finished meanwhile, it throws
/// <see cref="ImageCallStalledException"/> (a <see cref="TimeoutException"/>, so transient: the caller's retry sends the
/// call again). Why: an image call may rightly take minutes, so its response timeout is ten; but a request that the cluster
/// loses while its membership changes (a coordinator restarted on its address: Orleans drops a message it cannot address
/// and the caller learns of it only at the timeout) would hold the shard for those ten minutes with nothing logged. A run
/// whose calls keep finishing, however slowly, is never interrupted. O(1) per call.
/// A run that is stopped still waits for its calls, up to <see cref="StopGrace"/>: the image grain goes on with a call
/// whose caller stopped listening and writes its blobs when it ends, so a caller that moved on at once (a deletion
/// sweeping the job's blobs) would find an outcome blob written behind it. The grace is bounded because whoever stops
/// the run (a shard's Stop or Forget, called by the coordinator) waits within its call's response timeout
/// (<see cref="AnomalyClustering.Abstractions.Jobs.IJobShardGrain.StopTimeout"/>).
/// </summary>
internal sealed class ImageCallWatchdog(TimeSpan stallTimeout, ILogger logger, string run, TimeSpan? stopGrace = null)
{
    /// <summary>How long a stopped run waits for a call still running (well inside <see cref="AnomalyClustering.Abstractions.Jobs.IJobShardGrain.StopTimeout"/>).</summary>
    public static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(20);

    private long _lastProgress = Environment.TickCount64;

    /// <summary>The longest a stopped run waits for one of its calls.</summary>
    public TimeSpan StopGrace { get; } = stopGrace ?? DefaultStopGrace;

    /// <summary>
    /// Awaits <paramref name="call"/>; throws <see cref="ImageCallStalledException"/> when it stalls (see the class). Once
    /// <paramref name="cancellationToken"/> is cancelled it waits for the call to end, at most <see cref="StopGrace"/>,
    /// then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<T> WatchAsync<T>(Task<T> call, string image, CancellationToken cancellationToken)
    {
        using var givenUp = new CancellationTokenSource();
        var watched = WatchUntilStalledAsync(call, image, givenUp.Token);
        try
        {
            return await watched.WaitAsync(cancellationToken).ConfigureAwait(true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Also when the call ended at the moment of the stop: WhenAny returns at once, and its fault is observed below.
            await Task.WhenAny(watched, Task.Delay(StopGrace, CancellationToken.None)).ConfigureAwait(true);
            if (!watched.IsCompleted)
            {
                logger.LogWarning("{Run}: stopped while the call for image {Image} still ran after {Grace:F0} s; if it ends, its outcome blob is written after the stop",
                    run, image, StopGrace.TotalSeconds);
                // The watch ends quietly: nothing is sent again, and a call that ends later is no progress of the run.
                await givenUp.CancelAsync().ConfigureAwait(true);
            }
            // Its outcome (or fault) is not wanted any more.
            _ = watched.ContinueWith(static abandoned => abandoned.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }
    }

    private async Task<T> WatchUntilStalledAsync<T>(Task<T> call, string image, CancellationToken givenUp)
    {
        var started = Environment.TickCount64;
        while (true)
        {
            var quiet = TimeSpan.FromMilliseconds(Environment.TickCount64 - Math.Max(started, Interlocked.Read(ref _lastProgress)));
            if (quiet >= stallTimeout)
            {
                // The abandoned call may still end; its outcome (or fault) is not wanted any more.
                _ = call.ContinueWith(static abandoned => abandoned.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                logger.LogWarning("{Run}: the call for image {Image} waited {Waited:F0} s while no other image finished; it is sent again (a request lost while the cluster changed?)",
                    run, image, TimeSpan.FromMilliseconds(Environment.TickCount64 - started).TotalSeconds);
                throw new ImageCallStalledException($"{run}: the call for image {image} stalled for {quiet.TotalSeconds:F0} s.");
            }
            try
            {
                // WaitAsync drops its timer as soon as the call ends: no timer outlives a finished call.
                return await call.WaitAsync(stallTimeout - quiet, givenUp).ConfigureAwait(true);
            }
            catch (TimeoutException) when (!call.IsCompleted)
            {
                // The wait ended, not the call: look again at how long the run has been quiet.
            }
            catch (TimeoutException) when (call.IsCompletedSuccessfully)
            {
                // The call ended just as the wait did: its answer counts.
                return call.Result;
            }
            finally
            {
                if (call.IsCompleted && !givenUp.IsCancellationRequested)
                {
                    Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
                }
            }
        }
    }
}

/// <summary>An image call given up by <see cref="ImageCallWatchdog"/>: a fault of the cluster, never of the image.</summary>
internal sealed class ImageCallStalledException(string message) : TimeoutException(message);
