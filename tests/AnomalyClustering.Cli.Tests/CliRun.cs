using System.Diagnostics;

namespace AnomalyClustering.Cli.Tests;

/// <summary>The outcome of one anomaly-cluster run: exit code and what it wrote.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    /// <summary>Runs the CLI in this process with captured output.</summary>
    public static CliRun InProcess(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = CliApplication.RunAsync(args, CliConsole.ForWriters(output, error)).GetAwaiter().GetResult();
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Runs the built executable (anomaly-cluster.dll next to the tests) as a child process.</summary>
    public static CliRun Executable(params string[] args) => Executable(new Dictionary<string, string>(), args);

    /// <summary>Runs the built executable as a child process with <paramref name="environment"/> added to its environment.</summary>
    public static CliRun Executable(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "anomaly-cluster.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment.Remove(CliApplication.TraceVariable);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("anomaly-cluster did not finish in 3 minutes: " + string.Join(' ', args));
        }
        return new CliRun(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Asserts a user error: the given exit code, one line on stderr holding <paramref name="fragment"/>, no stack trace.</summary>
    public void AssertOneLineError(int exitCode, string fragment)
    {
        Assert.True(ExitCode == exitCode, $"exit code {ExitCode}, expected {exitCode}; stderr: {Error}; stdout: {Output}");
        var lines = Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line on stderr, got:\n" + Error);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(fragment, lines[0]);
        Assert.DoesNotContain("   at ", Error + Output);
        // .NET's tails are no words of ours: ArgumentException's " (Parameter 'x')", an empty "()" of a missing detail.
        Assert.DoesNotContain("(Parameter '", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("()", lines[0], StringComparison.Ordinal);
    }
}
