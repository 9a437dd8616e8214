using AnomalyClustering.Core.Scoring;

namespace AnomalyClustering.Grains.Workers;

/// <summary>
/// The normal bank of each recent semi-supervised job on this silo, built once from the job's normal patch bags and
/// shared by all its image grains here (a bank is N_normal x M patches; rebuilding it per image would dominate the cost).
/// Keeps the few most recently used jobs.
/// </summary>
public sealed class NormalBankCache(PatchBagMemoryCache bags)
{
    private const int JobsKept = 4;
    private readonly Lock _gate = new();
    private readonly LinkedList<(string Key, Task<NormalBank> Bank)> _banks = new();

    /// <summary>The bank of <paramref name="jobId"/> made of the bags at <paramref name="normalFeatureBlobs"/>, in that order.</summary>
    public Task<NormalBank> GetAsync(string jobId, IReadOnlyList<string> normalFeatureBlobs, CancellationToken cancellationToken = default)
    {
        // The key includes the blob list, so a job resumed with a different normal set never reuses a stale bank.
        var key = jobId + "\n" + string.Join("\n", normalFeatureBlobs);
        lock (_gate)
        {
            for (var node = _banks.First; node is not null; node = node.Next)
            {
                if (node.Value.Key == key && !node.Value.Bank.IsFaulted)
                {
                    _banks.Remove(node);
                    _banks.AddFirst(node);
                    return node.Value.Bank;
                }
            }
            var bank = BuildAsync(normalFeatureBlobs, cancellationToken);
            _banks.AddFirst((key, bank));
            while (_banks.Count > JobsKept)
            {
                _banks.RemoveLast();
            }
            return bank;
        }
    }

    private async Task<NormalBank> BuildAsync(IReadOnlyList<string> blobs, CancellationToken cancellationToken)
    {
        var loaded = await Task.WhenAll(blobs.Select(blob => bags.GetAsync(blob, cancellationToken))).ConfigureAwait(false);
        return NormalBank.FromBags(loaded);
    }
}
