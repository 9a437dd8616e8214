using Microsoft.Extensions.Logging;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// One deletion of a job as its coordinator runs it (<see cref="ClusteringJobGrain"/>): its steps, which are idempotent, are
/// run until they succeed, with a pause after each failure that doubles from a second to a minute (the store or Redis
/// briefly away must not leave half a job, nor give up on it); the blobs deleted so far and the last failure are kept for
/// the job's status. Stops only when its coordinator deactivates (the next activation runs it again).
/// </summary>
internal sealed class CoordinatorDeletionRun(string jobId, ILogger logger)
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMinutes(1);

    private long _deletedBlobs;
    private volatile string? _lastError;

    /// <summary>Blobs deleted so far by this run.</summary>
    public long DeletedBlobs => Interlocked.Read(ref _deletedBlobs);

    /// <summary>Why the last attempt failed, while the run pauses before the next one; null once an attempt succeeds or none failed.</summary>
    public string? LastError => _lastError;

    /// <summary>Counts blobs deleted (called from any thread: the store's deletions run on the thread pool).</summary>
    public void CountDeleted(long blobs) => Interlocked.Add(ref _deletedBlobs, blobs);

    /// <summary>
    /// Runs <paramref name="steps"/> until they succeed. Continuations stay on the caller's scheduler (the grain's), so the
    /// steps may use the grain. Throws <see cref="OperationCanceledException"/> when <paramref name="stopping"/> fires.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> steps, CancellationToken stopping)
    {
        var pause = FirstPause;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await steps(stopping).ConfigureAwait(true);
                _lastError = null;
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested && e is not OutOfMemoryException)
            {
                _lastError = $"{e.GetType().Name}: {e.Message}";
                logger.LogWarning(e, "Job {JobId}: deletion attempt {Attempt} failed; it is tried again in {Pause}", jobId, attempt, pause);
            }
            await Task.Delay(pause, stopping).ConfigureAwait(true);
            pause = pause * 2 < LongestPause ? pause * 2 : LongestPause;
        }
    }
}
