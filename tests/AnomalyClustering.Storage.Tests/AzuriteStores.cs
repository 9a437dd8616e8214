using AnomalyClustering.Testing;

namespace AnomalyClustering.Storage.Tests;

/// <summary>Stores on the class's Azurite for tests run against every store: a new container each, or a skip without Azurite.</summary>
internal static class AzuriteStores
{
    /// <summary>A store on a new container of <paramref name="azurite"/>; skips the test when Azurite is not installed.</summary>
    public static async Task<IBlobStore> NewContainerAsync(AzuriteFixture azurite)
    {
        if (azurite.SkipReason is not null)
        {
            Assert.Skip(azurite.SkipReason);
        }
        return await AzureBlobStore.ConnectAsync(azurite.ConnectionString, "t" + Guid.NewGuid().ToString("N"), TestContext.Current.CancellationToken);
    }
}
