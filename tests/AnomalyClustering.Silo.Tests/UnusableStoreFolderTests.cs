using System.Diagnostics;
using System.Runtime.Versioning;
using AnomalyClustering.Cli.Tests;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// A one-node server whose local store folder (AnomalyClustering:Storage:LocalRoot) cannot be used at all (a file where it
/// or a folder above it should be, a folder this user may not write) says so in one line and exits with code 1, as for a
/// folder in use or a lock that cannot be written, rather than crashing with a stack trace. Run as the server's own process,
/// since Program.cs is what turns the start-up error into that line and exit code.
/// </summary>
public sealed class UnusableStoreFolderTests
{
    [Theory]
    [InlineData("")]
    [InlineData("below")]
    public void AStoreFolderThatIsAFileOrUnderOneIsSaidInOneLineAndTheServerExitsWithCode1(string below)
    {
        using var folder = new TempFolder();
        var file = folder.WriteText("not a folder", "store");
        var root = below.Length == 0 ? file : Path.Combine(file, below);

        var (exitCode, error) = RunServer(folder.Path, root);

        AssertOneLine(exitCode, error, $"'{file}' is a file");
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void AStoreFolderThisUserCannotWriteIsSaidInOneLineAndTheServerExitsWithCode1()
    {
        // Root writes any folder whatever its mode (CI runs as root, so this is skipped there); Windows has no Unix modes.
        Assert.SkipWhen(Environment.UserName == "root", "root ignores the folder's permissions");
        Assert.SkipWhen(OperatingSystem.IsWindows(), "folder modes are Unix's");
        using var folder = new TempFolder();
        var root = folder.Combine("store");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var (exitCode, error) = RunServer(folder.Path, root);

            AssertOneLine(exitCode, error, $"'{root}'");
        }
        finally
        {
            File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void AssertOneLine(int exitCode, string error, string fragment)
    {
        Assert.True(exitCode == 1, $"exit code {exitCode}, expected 1; stderr: {error}");
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("anomaly-clustering server: the store folder ", line, StringComparison.Ordinal);
        Assert.Contains(fragment, line, StringComparison.Ordinal);
        Assert.Contains("AnomalyClustering:Storage:LocalRoot", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the server (AnomalyClustering.Silo.dll beside the tests) on the local store <paramref name="storeRoot"/>, in
    /// <paramref name="workingFolder"/> (its content root: no appsettings.json there), and returns its exit code and standard
    /// error. It is expected to exit at start; one that runs on is killed, and the test fails.
    /// </summary>
    private static (int ExitCode, string Error) RunServer(string workingFolder, string storeRoot)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingFolder,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AnomalyClustering.Silo.dll"));
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["AnomalyClustering__Storage__Kind"] = "Local";
        start.Environment["AnomalyClustering__Storage__LocalRoot"] = storeRoot;
        start.Environment["AnomalyClustering__Auth__AllowAnonymous"] = "true";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the server did not exit at start: " + output.Result);
        }
        return (process.ExitCode, error.Result);
    }
}
