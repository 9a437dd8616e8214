using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Grains.Workers;

/// <summary>
/// The normal bank of each recent semi-supervised job on this silo, built once from the job's normal patch bags (or their
/// greedy coreset, when the job asks for one) and shared by all its image grains here (a bank is N_normal x M patches;
/// rebuilding it, let alone selecting a coreset, per image would dominate the cost). Keeps the few most recently used jobs.
/// </summary>
public sealed class NormalBankCache(PatchBagMemoryCache bags)
{
    private const int JobsKept = 4;
    private readonly RecentlyUsedTasks<JobNormalBank> _banks = new(JobsKept);

    /// <summary>
    /// The bank of <paramref name="jobId"/> made of the bags at <paramref name="normalFeatureBlobs"/>, in that order: all their
    /// patches, or the coreset keeping <paramref name="coresetFraction"/> of them (0: all) selected with <paramref name="seed"/>
    /// on <paramref name="maxDegreeOfParallelism"/> threads.
    /// </summary>
    public async Task<NormalBank> GetAsync(string jobId, IReadOnlyList<string> normalFeatureBlobs, double coresetFraction = 0, int seed = 0,
        int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default) =>
        (await GetJobBankAsync(jobId, normalFeatureBlobs, coresetFraction, seed, maxDegreeOfParallelism, cancellationToken).ConfigureAwait(false)).Bank;

    /// <summary>The coreset behind <see cref="GetAsync"/>'s bank (the same cached selection), for leave-one-out scores of the normal images.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="coresetFraction"/> is 0: there is no coreset.</exception>
    public async Task<NormalCoreset> GetCoresetAsync(string jobId, IReadOnlyList<string> normalFeatureBlobs, double coresetFraction, int seed,
        int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(coresetFraction);
        return (await GetJobBankAsync(jobId, normalFeatureBlobs, coresetFraction, seed, maxDegreeOfParallelism, cancellationToken).ConfigureAwait(false)).Coreset!;
    }

    /// <summary>
    /// What identifies a bank: the job, the blob list and the coreset's settings, so that a job resumed with a different normal
    /// set never reuses a stale bank (nor a device search made from one, <see cref="PatchScoring"/>).
    /// </summary>
    public static string KeyOf(string jobId, IReadOnlyList<string> normalFeatureBlobs, double coresetFraction, int seed) =>
        FormattableString.Invariant($"{jobId}\n{coresetFraction:R}\n{seed}\n") + string.Join("\n", normalFeatureBlobs);

    private Task<JobNormalBank> GetJobBankAsync(string jobId, IReadOnlyList<string> normalFeatureBlobs, double coresetFraction, int seed,
        int maxDegreeOfParallelism, CancellationToken cancellationToken)
    {
        return _banks.GetOrStart(KeyOf(jobId, normalFeatureBlobs, coresetFraction, seed), () => BuildAsync(normalFeatureBlobs, coresetFraction, seed, maxDegreeOfParallelism, cancellationToken));
    }

    private async Task<JobNormalBank> BuildAsync(IReadOnlyList<string> blobs, double coresetFraction, int seed, int maxDegreeOfParallelism,
        CancellationToken cancellationToken)
    {
        var loaded = await Task.WhenAll(blobs.Select(blob => bags.GetAsync(blob, cancellationToken))).ConfigureAwait(false);
        if (coresetFraction == 0)
        {
            return new JobNormalBank(NormalBank.FromBags(loaded), Coreset: null);
        }
        var coreset = JobPlan.SelectNormalCoreset(loaded, coresetFraction, seed, maxDegreeOfParallelism);
        return new JobNormalBank(coreset.ToBank(), coreset);
    }

    private sealed record JobNormalBank(NormalBank Bank, NormalCoreset? Coreset);
}
