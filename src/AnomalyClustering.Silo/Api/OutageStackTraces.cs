using System.Collections.Concurrent;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Decides which of <see cref="DependencyOutageAnswer"/>'s lines carry the exception's stack trace: the first of each
/// dependency in every <see cref="Interval"/>. During an outage every request is answered 503 and logged under its own
/// incident id (the one the caller is told), so a flood of requests is a flood of lines; one trace a minute says as much
/// as one per line.
/// </summary>
internal sealed class OutageStackTraces(TimeProvider time)
{
    /// <summary>How long after a line with a trace the same dependency's lines go without one.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, DateTimeOffset> lastTraced = new(StringComparer.Ordinal);

    /// <summary>Whether the line about <paramref name="dependency"/> logged now carries the trace (and starts a new interval).</summary>
    public bool Take(string dependency)
    {
        var now = time.GetUtcNow();
        while (true)
        {
            if (!lastTraced.TryGetValue(dependency, out var last))
            {
                if (lastTraced.TryAdd(dependency, now))
                {
                    return true;
                }
                continue;
            }
            if (now - last < Interval)
            {
                return false;
            }
            if (lastTraced.TryUpdate(dependency, now, last))
            {
                return true;
            }
        }
    }
}
