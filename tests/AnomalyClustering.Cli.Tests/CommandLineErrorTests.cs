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
    public void NoCommandPrintsTheHelpAndFails()
    {
        var run = CliRun.InProcess();
        Assert.Equal(CliExitCodes.UsageError, run.ExitCode);
        Assert.Contains("Usage:", run.Output, StringComparison.Ordinal);
        Assert.Contains("cluster", run.Output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Error);
        var jobs = CliRun.InProcess("jobs");
        Assert.Equal(CliExitCodes.UsageError, jobs.ExitCode);
        Assert.Contains("status", jobs.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AWrongNumberNamesNoDotNetType()
    {
        var run = CliRun.InProcess("demo", "--images-per-class", "many");
        run.AssertOneLineError(CliExitCodes.UsageError, "many");
        Assert.DoesNotContain("System.", run.Error, StringComparison.Ordinal);
        Assert.Contains("a whole number", run.Error, StringComparison.Ordinal);
    }
}
