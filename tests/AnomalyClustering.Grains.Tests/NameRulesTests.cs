using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Grains.Lines;

namespace AnomalyClustering.Grains.Tests;

/// <summary>
/// The name rules that keep ids out of other blob folders. A pattern anchored with '$' also matches before a final
/// newline, so "plate\n" passed as a job id and a line name, and a tenant "acme\n" got a plain folder instead of a hash.
/// </summary>
public sealed class NameRulesTests
{
    [Theory]
    [InlineData("plate\n")]
    [InlineData("plate\r\n")]
    [InlineData("\nplate")]
    public void AJobIdOrLineNameWithANewlineIsRefused(string name)
    {
        Assert.Throws<InvalidJobException>(() => JobBlobNames.ValidateJobId(name));
        Assert.Throws<InvalidLineNameException>(() => LineCatalogStore.CheckName(name));
    }

    [Fact]
    public void PlainNamesStillPass()
    {
        JobBlobNames.ValidateJobId("plate-2026.12_a");
        LineCatalogStore.CheckName("plate-2026.12_a");
        Assert.Equal("lines/acme/plate/", LineCatalogStore.PrefixOf("acme", "plate"));
    }

    [Fact]
    public void ATenantWithANewlineGetsAHashedFolder()
    {
        var folder = LineCatalogStore.TenantFolder("acme\n");
        Assert.StartsWith("~", folder);
        Assert.DoesNotContain('\n', folder);
        Assert.Equal("acme", LineCatalogStore.TenantFolder("acme"));
    }
}
