using AnomalyClustering.Grains.Hosting;
using AnomalyClustering.Grains.Jobs;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// Coordinator settings the server cannot run with are refused at start, in one line that names the setting: a decision
/// log flush interval of zero or less (the log's timer fired without pause once a line was used and kept a core busy) and
/// a negative compaction grace (hours still written to would count as closed).
/// </summary>
public sealed class CoordinatorSettingsTests
{
    [Theory]
    [InlineData("DecisionLogFlushInterval", "00:00:00", "is 00:00:00; it must be more than zero")]
    [InlineData("DecisionLogFlushInterval", "-00:00:05", "is -00:00:05; it must be more than zero")]
    [InlineData("DecisionLogCompactionGrace", "-01:00:00", "is -01:00:00; it must be zero or more")]
    public async Task AServerWithADecisionLogSettingOutOfRangeRefusesToStartNamingIt(string name, string value, string said)
    {
        using var tokens = new TestTokens();
        var key = $"AnomalyClustering:Coordinator:{name}";
        var settings = new Dictionary<string, string?> { [key] = value };

        var refused = await Assert.ThrowsAsync<ServerSettingException>(async () => await (await StandaloneSilo.StartAsync(tokens, settings)).DisposeAsync());

        Assert.Equal(key, refused.Key);
        Assert.StartsWith($"{key} {said}", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void TheDefaultsAndAZeroGraceAreAccepted()
    {
        new CoordinatorOptions().Validate();
        new CoordinatorOptions { DecisionLogCompactionGrace = TimeSpan.Zero, DecisionLogFlushInterval = TimeSpan.FromMilliseconds(100) }.Validate();
    }
}
