using System.Reflection;
using AnomalyClustering.Abstractions.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// A reminder table that fails the coordinator's first registrations (as Redis under load answered one with a
/// cancellation in a clean CI run, which failed the submission after its state was written): the submission is
/// accepted, the job completes, and the resume reminder is registered at a later stage.
/// </summary>
public sealed class ReminderOutageTests(ReminderOutageTests.FlakyReminderCluster fixture) : IClassFixture<ReminderOutageTests.FlakyReminderCluster>
{
    [Fact]
    public async Task ASubmissionWhoseReminderCannotBeRegisteredRunsAndRegistersItLater()
    {
        var data = await DemoDataset.CreateAsync(fixture.Store, seed: 89);

        var status = await JobRuns.RunAsync(fixture.Cluster.Client, fixture.Store, "reminder-outage-" + Guid.NewGuid().ToString("N")[..8], data.Job(new JobOptions()));

        Assert.True(status.State == JobState.Completed, $"{status.State}: {status.Error}");
        Assert.Equal(FlakyReminderCluster.FailedUpserts, FlakyReminderTable.Refused);
        Assert.True(FlakyReminderTable.Stored > 0, "the resume reminder was never registered");
    }

    /// <summary>The three-silo cluster with <see cref="FlakyReminderTable"/> in front of its in-memory reminder table.</summary>
    public sealed class FlakyReminderCluster : ThreeSiloCluster
    {
        /// <summary>How many registrations the table refuses before it takes them.</summary>
        public const int FailedUpserts = 2;

        /// <inheritdoc />
        protected override void ConfigureReminders(ISiloBuilder silo)
        {
            silo.UseInMemoryReminderService();
            var inMemory = silo.Services.Last(service => service.ServiceType == typeof(IReminderTable));
            silo.Services.Remove(inMemory);
            silo.Services.AddSingleton(provider => FlakyReminderTable.Over(
                inMemory.ImplementationInstance as IReminderTable
                ?? inMemory.ImplementationFactory?.Invoke(provider) as IReminderTable
                ?? (IReminderTable)ActivatorUtilities.CreateInstance(provider, inMemory.ImplementationType!)));
        }
    }

    /// <summary>Refuses the first <see cref="FlakyReminderCluster.FailedUpserts"/> upserts of the cluster; passes everything else on.</summary>
    public class FlakyReminderTable : DispatchProxy
    {
        private static int _refused;
        private static int _stored;
        private IReminderTable _inner = null!;

        /// <summary>Upserts refused so far.</summary>
        public static int Refused => Volatile.Read(ref _refused);

        /// <summary>Upserts passed on so far.</summary>
        public static int Stored => Volatile.Read(ref _stored);

        public static IReminderTable Over(IReminderTable inner)
        {
            var proxy = Create<IReminderTable, FlakyReminderTable>();
            ((FlakyReminderTable)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IReminderTable.UpsertRow))
            {
                if (Interlocked.Increment(ref _refused) <= FlakyReminderCluster.FailedUpserts)
                {
                    return Task.FromException<string>(new InvalidOperationException("the reminder table did not answer (test)", new TaskCanceledException()));
                }
                Interlocked.Decrement(ref _refused);
                Interlocked.Increment(ref _stored);
            }
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
