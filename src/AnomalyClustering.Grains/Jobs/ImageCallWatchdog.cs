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
/// A run that is stopped still waits for its calls (under the same stall rule): the image grain goes on with a call whose
/// caller stopped listening and writes its blobs when it ends, so a caller that moved on at once (a deletion sweeping the
/// job's blobs) would find an outcome blob written behind it.
/// </summary>
internal sealed class ImageCallWatchdog(TimeSpan stallTimeout, ILogger logger, string run)
{
    private long _lastProgress = Environment.TickCount64;

    /// <summary>
    /// Awaits <paramref name="call"/>, also once <paramref name="cancellationToken"/> is cancelled (see the class); throws
    /// <see cref="ImageCallStalledException"/> when it stalls, and <see cref="OperationCanceledException"/> after a call
    /// that ended once the run was stopped.
    /// </summary>
    public async Task<T> WatchAsync<T>(Task<T> call, string image, CancellationToken cancellationToken)
    {
        var result = await WatchAsync(call, image).ConfigureAwait(true);
        cancellationToken.ThrowIfCancellationRequested();
        return result;
    }

    private async Task<T> WatchAsync<T>(Task<T> call, string image)
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
                return await call.WaitAsync(stallTimeout - quiet).ConfigureAwait(true);
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
                if (call.IsCompleted)
                {
                    Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
                }
            }
        }
    }
}

/// <summary>An image call given up by <see cref="ImageCallWatchdog"/>: a fault of the cluster, never of the image.</summary>
internal sealed class ImageCallStalledException(string message) : TimeoutException(message);
