using System.Collections.Concurrent;

namespace AnomalyClustering.Benchmarks.ScaleSimulation;

/// <summary>Counts the grain calls every silo receives, by interface and method (one instance shared by the silos of the process).</summary>
internal sealed class GrainCallCounter : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, StrongBox> _calls = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task Invoke(IIncomingGrainCallContext context)
    {
        Interlocked.Increment(ref _calls.GetOrAdd($"{context.InterfaceName}.{context.MethodName}", _ => new StrongBox()).Value);
        return context.Invoke();
    }

    /// <summary>Calls so far by interface.method, largest first.</summary>
    public IReadOnlyList<(string Method, long Calls)> Snapshot() =>
        _calls.Select(pair => (pair.Key, Interlocked.Read(ref pair.Value.Value))).OrderByDescending(pair => pair.Item2).ToArray();

    private sealed class StrongBox
    {
        public long Value;
    }
}
