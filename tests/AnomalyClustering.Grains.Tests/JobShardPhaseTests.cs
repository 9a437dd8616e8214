using System.Collections.Concurrent;
using System.Reflection;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using AnomalyClustering.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The coordinator's loop over a job's shards and a cancel. A cancel stops the shards that run at that moment; before, a
/// cancel that landed while the loop awaited one shard's Run call stopped none of that pass's shards (not yet known as
/// running) and the loop went on to start the others, which then worked through their chunks for a cancelled job.
/// </summary>
public sealed class JobShardPhaseTests
{
    [Fact]
    public async Task ACancelWhileAShardsRunCallIsInFlightLeavesEveryCalledShardStopped()
    {
        var shards = new RecordingShards();
        var state = new JobCoordinatorState
        {
            Specification = new JobSpecification(new JobManifestReference("jobs/x/manifest/", 30, 0, 10, []), new JobOptions(), "{}"),
            State = JobState.Weighting,
        };
        var store = new LocalDirectoryBlobStore(IsolatedCacheFolder.NewScratchFolder("ac-shard-phase"));
        var run = new JobRunContext("shard-cancel", () => state, RecordingShards.Factory(shards), store,
            new CoordinatorOptions { MaxActiveShards = 3 }, NullLogger.Instance, () => Task.CompletedTask, () => Task.CompletedTask);
        using var cancel = new CancellationTokenSource();

        var loop = JobShardPhase.RunAsync(run, cancel.Token);
        // The readiness signal: the loop awaits shard 0's first Run call.
        await shards.FirstRunArrived.Task.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        // What the coordinator's Cancel does while that call is in flight.
        await cancel.CancelAsync();
        await JobShardPhase.StopAsync(run);
        shards.ReleaseFirstRun();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));

        Assert.Equal([0], shards.Calls.Where(c => c.Method == "Run").Select(c => c.Shard).Distinct());
        // The loop's own stop is sent in the background: wait for it (a readiness signal, not a time).
        await shards.StopAfterLastRun.Task.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        foreach (var shard in shards.Calls.Where(c => c.Method == "Run").Select(c => c.Shard).Distinct())
        {
            var lastRun = shards.Calls.FindLastIndex(c => c.Method == "Run" && c.Shard == shard);
            Assert.True(shards.Calls.FindLastIndex(c => c.Method == "Stop" && c.Shard == shard) > lastRun, $"shard {shard} was not stopped after its last Run");
        }
    }

    /// <summary>Shard grains that record their calls; shard 0's first Run waits until released.</summary>
    internal sealed class RecordingShards
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _gate = new();
        private readonly List<(string Method, int Shard)> _calls = [];
        private volatile bool _firstRunAnswered;

        public TaskCompletionSource FirstRunArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set by the first Stop of shard 0 that comes after its first Run has answered.</summary>
        public TaskCompletionSource StopAfterLastRun { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<(string Method, int Shard)> Calls
        {
            get
            {
                lock (_gate)
                {
                    return [.. _calls];
                }
            }
        }

        public void ReleaseFirstRun() => _release.TrySetResult();

        public static IGrainFactory Factory(RecordingShards shards)
        {
            var proxy = DispatchProxy.Create<IGrainFactory, FactoryProxy>();
            ((FactoryProxy)(object)proxy).Shards = shards;
            return proxy;
        }

        public async Task<ShardProgress> RunAsync(int shard)
        {
            bool first;
            lock (_gate)
            {
                first = shard == 0 && !_calls.Any(c => c.Method == "Run" && c.Shard == 0);
                _calls.Add(("Run", shard));
            }
            if (first)
            {
                FirstRunArrived.TrySetResult();
                await _release.Task;
                _firstRunAnswered = true;
            }
            return new ShardProgress(10, 0, 0, 0, null, 0, 0);
        }

        public Task StopAsync(int shard)
        {
            lock (_gate)
            {
                _calls.Add(("Stop", shard));
            }
            if (shard == 0 && _firstRunAnswered)
            {
                StopAfterLastRun.TrySetResult();
            }
            return Task.CompletedTask;
        }
    }

    public class FactoryProxy : DispatchProxy
    {
        internal RecordingShards Shards = null!;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IGrainFactory.GetGrain) && targetMethod.IsGenericMethod
                && targetMethod.GetGenericArguments()[0] == typeof(IJobShardGrain) && args?[0] is string key)
            {
                var proxy = DispatchProxy.Create<IJobShardGrain, ShardProxy>();
                ((ShardProxy)(object)proxy).Shards = Shards;
                ((ShardProxy)(object)proxy).Shard = JobShardKey.ShardOf(key);
                return proxy;
            }
            throw new NotSupportedException($"{targetMethod.Name} is not used by the shard phase");
        }
    }

    public class ShardProxy : DispatchProxy
    {
        internal RecordingShards Shards = null!;
        internal int Shard;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IJobShardGrain.Run) => Shards.RunAsync(Shard),
            nameof(IJobShardGrain.Stop) => Shards.StopAsync(Shard),
            _ => throw new NotSupportedException($"{targetMethod?.Name} is not used by the shard phase"),
        };
    }
}
