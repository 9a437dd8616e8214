using Microsoft.Extensions.Options;

namespace AnomalyClustering.Grains.Workers;

/// <summary>
/// The decoded pixels a worker silo holds at once, bounded: a weighted semaphore that an image acquires for its pixel count
/// (width x height from its header, before any pixel memory is allocated) and releases once it is decoded and resized.
/// Waiters are served first come, first served, so a large image is never overtaken for ever by small ones. An image larger
/// than the whole budget cannot fit at all and is refused (<see cref="Fits"/>), never left to an OutOfMemoryException.
/// </summary>
public sealed class DecodedPixelBudget
{
    /// <summary>
    /// Bytes one decoded pixel holds while it is in flight: the decoder's RGBA scratch (4) and the RGB image (3), rounded
    /// up for the resize's intermediate rows.
    /// </summary>
    public const int BytesPerPixel = 8;

    /// <summary>The share of the process's memory limit that decoded pixels may take when no budget is configured.</summary>
    public const double MemoryShare = 0.25;

    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _queue = new();
    private long _available;

    /// <summary>A budget of <paramref name="capacity"/> pixels.</summary>
    public DecodedPixelBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _available = capacity;
    }

    /// <summary>The budget the worker's settings give: <see cref="WorkerOptions.MaxInFlightDecodedPixels"/>, or from the memory limit.</summary>
    public DecodedPixelBudget(IOptions<WorkerOptions> options)
        : this(CapacityOf(options.Value.MaxInFlightDecodedPixels, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes))
    {
    }

    /// <summary>The most pixels in flight at once.</summary>
    public long Capacity { get; }

    /// <summary>The pixels held now.</summary>
    public long InUse
    {
        get
        {
            lock (_gate)
            {
                return Capacity - _available;
            }
        }
    }

    /// <summary>
    /// <paramref name="configured"/> when positive; otherwise <see cref="MemoryShare"/> of <paramref name="memoryLimitBytes"/>
    /// (what the GC sees as the limit: the container's memory limit in a pod) at <see cref="BytesPerPixel"/>.
    /// </summary>
    public static long CapacityOf(long configured, long memoryLimitBytes) =>
        configured > 0 ? configured : Math.Max(1, (long)(memoryLimitBytes * MemoryShare) / BytesPerPixel);

    /// <summary>True when an image of <paramref name="pixels"/> can ever be admitted.</summary>
    public bool Fits(long pixels) => pixels <= Capacity;

    /// <summary>Waits until <paramref name="pixels"/> are free and takes them; dispose the lease to give them back.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More pixels than the whole budget (check <see cref="Fits"/> first).</exception>
    public Task<IDisposable> AcquireAsync(long pixels, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pixels);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pixels, Capacity);
        Waiter waiter;
        lock (_gate)
        {
            if (_queue.Count == 0 && _available >= pixels)
            {
                _available -= pixels;
                return Task.FromResult<IDisposable>(new Lease(this, pixels));
            }
            waiter = new Waiter(pixels);
            waiter.Node = _queue.AddLast(waiter);
        }
        if (cancellationToken.CanBeCanceled)
        {
            waiter.Cancellation = cancellationToken.Register(() =>
            {
                lock (_gate)
                {
                    if (waiter.Node?.List is null)
                    {
                        return;
                    }
                    _queue.Remove(waiter.Node);
                }
                waiter.Completion.TrySetCanceled(cancellationToken);
                // The head may have been the one blocking those behind it.
                Release(0);
            });
        }
        return waiter.Completion.Task;
    }

    private void Release(long pixels)
    {
        List<Waiter> admitted = [];
        lock (_gate)
        {
            _available += pixels;
            while (_queue.First is { } head && head.Value.Pixels <= _available)
            {
                _queue.RemoveFirst();
                _available -= head.Value.Pixels;
                admitted.Add(head.Value);
            }
        }
        foreach (var waiter in admitted)
        {
            waiter.Cancellation.Dispose();
            waiter.Completion.TrySetResult(new Lease(this, waiter.Pixels));
        }
    }

    private sealed class Waiter(long pixels)
    {
        public long Pixels { get; } = pixels;

        public TaskCompletionSource<IDisposable> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Cancellation { get; set; }
    }

    private sealed class Lease(DecodedPixelBudget budget, long pixels) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                budget.Release(pixels);
            }
        }
    }
}
