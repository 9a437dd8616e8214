namespace AnomalyClustering.Cluster.Tests;

/// <summary>
/// Samples, through Orleans' management grain, which silo hosts which activations of a job's image grains (keys
/// <c>{jobId}/i{index}</c>) while the job runs. An image grain stays active from its embedding until its weighting, so every
/// one of them is visible for at least the whole gap between the two phases.
/// </summary>
internal static class PlacementSampler
{
    /// <summary>Samples every 100 ms until <paramref name="stop"/>; returns the number of samples and the keys seen per silo port.</summary>
    public static async Task<(int Samples, IReadOnlyDictionary<int, HashSet<string>> KeysBySiloPort)> RunAsync(
        IClusterClient client, string keyPrefix, CancellationToken stop)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var seen = new Dictionary<int, HashSet<string>>();
        var samples = 0;
        Exception? lastError = null;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var statistics = await management.GetDetailedGrainStatistics().WaitAsync(TimeSpan.FromSeconds(10), stop);
                samples++;
                foreach (var statistic in statistics)
                {
                    var key = statistic.GrainId.Key.ToString();
                    // Image grain keys only ({job}/i{n}, {job}/n{n}): the job's shard grains ({job}/s{n}) belong on the coordinator.
                    if (key is not null && key.StartsWith(keyPrefix, StringComparison.Ordinal) && key.Length > keyPrefix.Length && key[keyPrefix.Length] is 'i' or 'n')
                    {
                        var port = statistic.SiloAddress.Endpoint.Port;
                        if (!seen.TryGetValue(port, out var keys))
                        {
                            seen[port] = keys = new HashSet<string>(StringComparer.Ordinal);
                        }
                        keys.Add(key);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                lastError = e;
            }
            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        if (samples == 0 && lastError is not null)
        {
            throw new InvalidOperationException("no placement sample could be taken: " + lastError.Message, lastError);
        }
        return (samples, seen);
    }
}
