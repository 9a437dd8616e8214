using Azure;
using StackExchange.Redis;

namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// A coordinator's calls to its image grains: one call per item with a bounded number in flight, awaited on the caller's
/// scheduler (a grain's turns, so that its state is touched by one turn at a time), and retries of what a cluster throws
/// while it changes.
/// </summary>
internal static class BoundedFanOut
{
    private static readonly TimeSpan[] RetryDelays =
        [.. new[] { 1, 2, 4, 8, 15, 15, 15, 15, 15 }.Select(seconds => TimeSpan.FromSeconds(seconds))];

    /// <summary>
    /// Runs <paramref name="process"/> for every item with at most <paramref name="maxInFlight"/> in flight, running
    /// <paramref name="afterEach"/> each time one finishes while items wait (the caller's checkpoint). A failed item's
    /// exception ends the run; <paramref name="process"/> catches what should cost only its item.
    /// </summary>
    public static async Task ForEachAsync<T>(
        IEnumerable<T> items, int maxInFlight, Func<T, Task> process, Func<Task> afterEach, CancellationToken cancellationToken)
    {
        var inFlight = new HashSet<Task>();
        try
        {
            foreach (var item in items)
            {
                cancellationToken.ThrowIfCancellationRequested();
                while (inFlight.Count >= Math.Max(1, maxInFlight))
                {
                    var done = await Task.WhenAny(inFlight).ConfigureAwait(true);
                    inFlight.Remove(done);
                    await done.ConfigureAwait(true);
                    await afterEach().ConfigureAwait(true);
                }
                inFlight.Add(process(item));
            }
            await Task.WhenAll(inFlight).ConfigureAwait(true);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (Exception)
        {
            // The items still in flight finish before the exception leaves: none of them may touch the caller's state
            // after the caller has moved on (a resumed run would count their images twice).
            await SettleAsync(inFlight).ConfigureAwait(true);
            throw;
        }
    }

    private static async Task SettleAsync(IEnumerable<Task> tasks)
    {
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(true);
        }
        catch (Exception)
        {
            // Only waited for: the first failure is the one reported.
        }
    }

    /// <summary>
    /// Calls a grain, retrying what a cluster throws while it changes or a dependency is briefly away (a worker killed
    /// mid-call, which the cluster declares dead only after tens of seconds; placement before a new silo's metadata
    /// arrived; a timeout; the blob store unreachable): <see cref="RetryDelays"/> apart, about 90 s in all. After that the
    /// exception goes to the caller, which must not read it as the image's fault: the work is left undone and resumed later.
    /// </summary>
    public static async Task<T> WithRetriesAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(true);
            }
            catch (Exception e) when (attempt < RetryDelays.Length && IsTransient(e))
            {
                await Task.Delay(RetryDelays[attempt], cancellationToken).ConfigureAwait(true);
            }
        }
    }

    /// <summary>
    /// True for a fault of the cluster or a dependency rather than of the work itself: Orleans' own exceptions (a silo
    /// gone, a connection lost), timeouts, storage I/O (the blob store's errors are <see cref="IOException"/>s; the Azure
    /// SDK's own, when the service cannot be reached, arrive as its retries' <see cref="AggregateException"/>), and Redis
    /// (grain state, reminders) unreachable; also any exception caused by one of those.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is TimeoutException or OrleansException or IOException or HttpRequestException or RedisException
                || cause is RequestFailedException { Status: 0 or 408 or 429 or >= 500 }
                || (cause is AggregateException aggregate && aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient)))
            {
                return true;
            }
        }
        return false;
    }
}
