using AnomalyClustering.Cli.Lines;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// <c>line report --since</c>'s durations: 1 minute to 10 years is a window back from now; anything else, however large,
/// is the one input error that says so.
/// </summary>
public sealed class LineReportWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("1m", 1)]
    [InlineData("90m", 90)]
    [InlineData("0.5h", 30)]
    [InlineData("24h", 24 * 60)]
    [InlineData("7d", 7 * 24 * 60)]
    [InlineData("2w", 14 * 24 * 60)]
    [InlineData("3660d", 3660 * 24 * 60)]
    public void ADurationOfOneMinuteToTenYearsIsAWindowBackFromNow(string since, int minutes)
    {
        Assert.Equal(Now - TimeSpan.FromMinutes(minutes), LineReportWindow.Start(since, Now));
    }

    [Theory]
    [InlineData("99999999d")]
    [InlineData("99999999w")]
    [InlineData("999999999999999999999999999999m")]
    [InlineData("3661d")]
    [InlineData("523w")]
    public void ADurationBeyondTenYearsHoweverLargeIsAnInputErrorNotAnOverflow(string since)
    {
        // TimeSpan.FromDays(99999999) was made before the range check: an OverflowException, an internal error.
        var error = Assert.Throws<CliInputException>(() => LineReportWindow.Start(since, Now));
        Assert.Equal($"--since '{since}' is not a window of 1 minute to 10 years; give e.g. 24h, 90m or 7d.", error.Message);
    }

    [Theory]
    [InlineData("0.01m")]
    [InlineData("0.5m")]
    [InlineData("0.01h")]
    [InlineData("0m")]
    [InlineData("0d")]
    public void ADurationUnderAMinuteIsAnInputError(string since)
    {
        // Any positive span was taken: 0.01m, 0.6 seconds, though the message says the least is 1 minute.
        var error = Assert.Throws<CliInputException>(() => LineReportWindow.Start(since, Now));
        Assert.Equal($"--since '{since}' is not a window of 1 minute to 10 years; give e.g. 24h, 90m or 7d.", error.Message);
    }
}
