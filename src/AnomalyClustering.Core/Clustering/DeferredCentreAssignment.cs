namespace AnomalyClustering.Core.Clustering;

/// <summary>
/// An assignment step made when the first assignment asks for it: only the two-stage methods assign, so a clustering
/// that takes another path never makes it (a GPU session, for instance). Not for concurrent calls (one clustering's).
/// </summary>
/// <param name="resolve">Makes the step; called at most once.</param>
public sealed class DeferredCentreAssignment(Func<ICentreAssignment> resolve) : ICentreAssignment
{
    private ICentreAssignment? _resolved;

    /// <summary>Whether a clustering assigned with it (and the step was made).</summary>
    public bool WasUsed => _resolved is not null;

    /// <inheritdoc />
    public string Description => _resolved?.Description ?? "not used";

    /// <inheritdoc />
    public void Assign(ReadOnlySpan<float> points, int count, int dimension, ReadOnlySpan<float> centres, int centreCount, Span<int> assignment)
    {
        _resolved ??= resolve();
        _resolved.Assign(points, count, dimension, centres, centreCount, assignment);
    }
}
