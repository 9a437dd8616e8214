namespace AnomalyClustering.Grains.Jobs;

/// <summary>
/// A coordinator's calls to its image grains: one call per item with a bounded number in flight, awaited on the caller's
/// scheduler (a grain's turns, so that its state is touched by one turn at a time), and retries of what a cluster throws
/// while it changes.
/// </summary>
internal static class BoundedFanOut
{
    /// <summary>
    /// Runs <paramref name="process"/> for every item with at most <paramref name="maxInFlight"/> in flight, running
    /// <paramref name="afterEach"/> each time one finishes while items wait (the caller's checkpoint). A failed item's
    /// exception ends the run; <paramref name="process"/> catches what should cost only its item.
    /// </summary>
    public static async Task ForEachAsync<T>(
        IEnumerable<T> items, int maxInFlight, Func<T, Task> process, Func<Task> afterEach, CancellationToken cancellationToken)
    {
        var inFlight = new HashSet<Task>();
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

    /// <summary>
    /// Calls an image grain, retrying what a cluster throws while it changes (a worker leaving mid-call, placement before
    /// a new silo's metadata arrived, a timeout): 3 attempts, 1 s then 2 s apart. Anything else is the image's own problem.
    /// </summary>
    public static async Task<T> WithRetriesAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(true);
            }
            catch (Exception e) when (attempt < 3 && e is TimeoutException or OrleansException)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken).ConfigureAwait(true);
            }
        }
    }
}
