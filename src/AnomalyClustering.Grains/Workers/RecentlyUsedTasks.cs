namespace AnomalyClustering.Grains.Workers;

/// <summary>
/// The few most recently used results of expensive per-job work on a silo (a normal bank, a device search), by key, as
/// tasks: the first caller starts the work, concurrent callers share it, and a faulted one is started again on next use.
/// Thread-safe.
/// </summary>
internal sealed class RecentlyUsedTasks<T>(int capacity, Action<Task<T>>? evicted = null)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<(string Key, Task<T> Work)> _entries = new();

    /// <summary>The work kept under <paramref name="key"/>, or <paramref name="start"/> run on the thread pool and kept.</summary>
    public Task<T> GetOrStart(string key, Func<Task<T>> start)
    {
        lock (_gate)
        {
            for (var node = _entries.First; node is not null; node = node.Next)
            {
                if (node.Value.Key == key && !node.Value.Work.IsFaulted)
                {
                    _entries.Remove(node);
                    _entries.AddFirst(node);
                    return node.Value.Work;
                }
            }
            // On the thread pool: the work would otherwise run here, inside the lock and on the caller's (grain) thread.
            var work = Task.Run(start);
            _entries.AddFirst((key, work));
            while (_entries.Count > capacity)
            {
                var last = _entries.Last!.Value.Work;
                _entries.RemoveLast();
                evicted?.Invoke(last);
            }
            return work;
        }
    }
}
