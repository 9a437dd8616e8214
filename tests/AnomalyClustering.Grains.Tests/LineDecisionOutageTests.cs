using System.Reflection;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Abstractions.Lines;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Lines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A line image decided while the line's decision log cannot be reached (its silo gone): the caller is answered
/// <c>unavailable</c>, so that it sends the image again, and nothing is stored; sent again with the log back, the image
/// gets exactly one stored decision. Before, the grain call's exception left the decider, a 500 for the API.
/// </summary>
public sealed class LineDecisionOutageTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    [Fact]
    public async Task ADecisionTheLogCannotStoreIsAnsweredUnavailableAndStoredOnceWhenSentAgain()
    {
        var cancel = TestContext.Current.CancellationToken;
        var (catalog, prefix, image) = await LineOfANewJobAsync(seed: 87, "outage");

        // Queue semantics (failures logged): a dependency's outage is still not the image's failure.
        var away = new LineImageDecider(UnreachableLog.Over(fixture.Cluster.Client), fixture.Store, NullLogger<LineImageDecider>.Instance);
        var answered = Assert.Single(await away.DecideAsync(prefix, catalog, [image], logFailures: true, cancel));
        Assert.Equal(LineImageError.Unavailable, answered.Error?.Reason);
        Assert.Null(answered.Decision);
        Assert.Null(await away.StoredDecisionAsync(prefix, image.ImageId, cancel));

        var decider = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<LineImageDecider>();
        var again = Assert.Single(await decider.DecideAsync(prefix, catalog, [image], logFailures: true, cancel));
        Assert.Null(again.Error);
        Assert.False(again.Repeated);
        var stored = await decider.StoredDecisionAsync(prefix, image.ImageId, cancel);
        Assert.NotNull(stored);
        Assert.Equal(again.Decision!.DecidedAt, stored.DecidedAt);
    }

    [Fact]
    public async Task AnImageStoredAsAnUnknownLinesErrorIsDecidedOnceTheLineExists()
    {
        // An intake message that came before its line was made is stored as an `unknown-line` error. Before, that error was
        // final: the image sent again after the line was made was answered with it and never decided.
        var cancel = TestContext.Current.CancellationToken;
        var (catalog, prefix, image) = await LineOfANewJobAsync(seed: 89, "early");
        var decider = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<LineImageDecider>();

        await decider.RecordFailureAsync(prefix, 0, image, new LineImageError(LineImageError.UnknownLine, "line 'early' has no catalog"));
        // Sent again while the line still does not exist: one error, not two.
        await decider.RecordFailureAsync(prefix, 0, image, new LineImageError(LineImageError.UnknownLine, "line 'early' has no catalog"));
        var early = await decider.StoredDecisionAsync(prefix, image.ImageId, cancel);
        Assert.NotNull(early);
        Assert.False(early.IsFinal);

        var decided = Assert.Single(await decider.DecideAsync(prefix, catalog, [image], logFailures: true, cancel));
        Assert.Null(decided.Error);
        Assert.False(decided.Repeated);
        Assert.NotEqual(LineDecision.ErrorDecision, decided.Decision!.Decision);
        var stored = await decider.StoredDecisionAsync(prefix, image.ImageId, cancel);
        Assert.NotNull(stored);
        Assert.True(stored.IsFinal);
        Assert.Equal(decided.Decision.DecidedAt, stored.DecidedAt);
        // A later unknown-line error (the line deleted and its messages still queued) does not replace a decision.
        await decider.RecordFailureAsync(prefix, 0, image, new LineImageError(LineImageError.UnknownLine, "line 'early' has no catalog"));
        Assert.Equal(decided.Decision.DecidedAt, (await decider.StoredDecisionAsync(prefix, image.ImageId, cancel))!.DecidedAt);
        var again = Assert.Single(await decider.DecideAsync(prefix, catalog, [image], logFailures: true, cancel));
        Assert.True(again.Repeated);

        // The log keeps the history: the error once, then the decision.
        await fixture.Cluster.Client.GetGrain<ILineDecisionLogGrain>(prefix).Flush();
        var logged = await LineDecisionLog.PageAsync(fixture.Store, prefix, null, null, 100, null, cancel);
        Assert.Equal([LineDecision.ErrorDecision, decided.Decision.Decision], logged.Decisions.Select(d => d.Decision));
    }

    /// <summary>A completed job's catalog for a new line folder named after <paramref name="line"/>, and one of the job's images to send it.</summary>
    private async Task<(LineCatalog Catalog, string Prefix, LineImageDecider.StoredImage Image)> LineOfANewJobAsync(int seed, string line)
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: seed);
        var job = await JobRuns.RunAsync(fixture.Cluster.Client, fixture.Store, $"line-{line}-" + Guid.NewGuid().ToString("N")[..8], data.Job(new JobOptions()));
        Assert.Equal(JobState.Completed, job.State);
        var catalog = await JobLines.CatalogOfAsync(fixture, job, line);
        return (catalog, $"lines/_/{line}-{Guid.NewGuid():N}/", new LineImageDecider.StoredImage($"{line}-image", data.Images[1].Id, data.Images[1].BlobName));
    }

    /// <summary>A grain factory whose line decision log grains are on a silo that is gone; every other grain is real.</summary>
    public class UnreachableLog : DispatchProxy
    {
        private IGrainFactory inner = null!;

        public static IGrainFactory Over(IGrainFactory inner)
        {
            var proxy = Create<IGrainFactory, UnreachableLog>();
            ((UnreachableLog)(object)proxy).inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.IsGenericMethod && targetMethod.GetGenericArguments()[0] == typeof(ILineDecisionLogGrain))
            {
                return Create<ILineDecisionLogGrain, GoneSilo>();
            }
            try
            {
                return targetMethod.Invoke(inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }

    /// <summary>A grain reference whose every call fails as Orleans fails a call to a dead silo.</summary>
    public class GoneSilo : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            throw new SiloUnavailableException("the silo of the line's decision log is gone (test)");
    }
}
