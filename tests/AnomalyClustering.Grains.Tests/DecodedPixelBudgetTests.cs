using AnomalyClustering.Grains.Workers;

namespace AnomalyClustering.Grains.Tests;

/// <summary>The worker's budget of in-flight decoded pixels: admission, waiting in order, cancellation and sizing from memory.</summary>
public sealed class DecodedPixelBudgetTests
{
    [Fact]
    public async Task WhatFitsIsAdmittedAtOnceAndTheRestWaitsForARelease()
    {
        var budget = new DecodedPixelBudget(100);
        var first = await budget.AcquireAsync(60, TestContext.Current.CancellationToken);
        var second = await budget.AcquireAsync(40, TestContext.Current.CancellationToken);
        Assert.Equal(100, budget.InUse);

        var third = budget.AcquireAsync(50, TestContext.Current.CancellationToken);
        Assert.False(third.IsCompleted);
        second.Dispose();
        // 40 free is not enough for 50.
        Assert.False(third.IsCompleted);
        first.Dispose();
        using (await third.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken))
        {
            Assert.Equal(50, budget.InUse);
        }
        Assert.Equal(0, budget.InUse);
        // A lease given back twice counts once.
        first.Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task WaitersAreServedInOrderSoALargeImageIsNotOvertaken()
    {
        var budget = new DecodedPixelBudget(100);
        var held = await budget.AcquireAsync(90, TestContext.Current.CancellationToken);
        var large = budget.AcquireAsync(80, TestContext.Current.CancellationToken);
        // 10 are free, but the small one queues behind the large one.
        var small = budget.AcquireAsync(10, TestContext.Current.CancellationToken);
        Assert.False(large.IsCompleted);
        Assert.False(small.IsCompleted);

        held.Dispose();
        var largeLease = await large.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        var smallLease = await small.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        Assert.Equal(90, budget.InUse);
        largeLease.Dispose();
        smallLease.Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task ACancelledWaiterLeavesTheQueueAndUnblocksThoseBehindIt()
    {
        var budget = new DecodedPixelBudget(100);
        var held = await budget.AcquireAsync(50, TestContext.Current.CancellationToken);
        using var cancel = new CancellationTokenSource();
        var blocked = budget.AcquireAsync(80, cancel.Token);
        var behind = budget.AcquireAsync(30, TestContext.Current.CancellationToken);
        Assert.False(behind.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        using (await behind.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken))
        {
            Assert.Equal(80, budget.InUse);
        }
        held.Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task MoreThanTheWholeBudgetNeverFits()
    {
        var budget = new DecodedPixelBudget(100);
        Assert.True(budget.Fits(100));
        Assert.False(budget.Fits(101));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => budget.AcquireAsync(101, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void WithoutASettingTheBudgetIsAQuarterOfTheMemoryLimit()
    {
        // A 4 GiB pod: 1 GiB of decoded pixels at 8 bytes each.
        Assert.Equal((1L << 30) / 8, DecodedPixelBudget.CapacityOf(0, 4L << 30));
        Assert.Equal(12_345, DecodedPixelBudget.CapacityOf(12_345, 4L << 30));
    }
}
