namespace AnomalyClustering.Cli.Tests;

public sealed class CommandLineErrorTests
{
    [Fact]
    public void UnknownCommandIsAUsageError() =>
        CliRun.InProcess("clusterize", "x").AssertOneLineError(CliExitCodes.UsageError, "clusterize");

    [Fact]
    public void UnknownOptionIsAUsageError() =>
        CliRun.InProcess("demo", "--colour", "red").AssertOneLineError(CliExitCodes.UsageError, "--colour");

    [Fact]
    public void WrongValueTypeIsAUsageError() =>
        CliRun.InProcess("demo", "--images-per-class", "many").AssertOneLineError(CliExitCodes.UsageError, "many");

    [Fact]
    public void HelpListsTheCommandsAndSucceeds()
    {
        var run = CliRun.InProcess("--help");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("demo", run.Output);
        Assert.Equal(string.Empty, run.Error);
    }

    [Fact]
    public void NoCommandShowsUsageAndFails()
    {
        var run = CliRun.InProcess();
        Assert.NotEqual(0, run.ExitCode);
    }
}
