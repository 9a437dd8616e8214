using System.Diagnostics;
using System.Text;

namespace AnomalyClustering.Deployment.Tests.Infrastructure;

/// <summary>A command-line tool the tests run (kubectl, helm): found on PATH or through an environment variable.</summary>
internal sealed class ExternalTool
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    private ExternalTool(string name, string? path)
    {
        Name = name;
        Path = path;
    }

    /// <summary>The tool's name, as typed on a command line.</summary>
    public string Name { get; }

    /// <summary>The executable, or null when it is not installed.</summary>
    public string? Path { get; }

    /// <summary>kubectl, which renders kustomizations offline (<c>kubectl kustomize</c>).</summary>
    public static ExternalTool Kubectl { get; } = Find("kubectl", "KUBECTL");

    /// <summary>helm 3, optional: the chart's static checks run without it, <c>helm template</c> checks need it.</summary>
    public static ExternalTool Helm { get; } = Find("helm", "HELM");

    /// <summary>The .NET SDK's dotnet (the test host names it in DOTNET_HOST_PATH), for evaluating the projects.</summary>
    public static ExternalTool Dotnet { get; } = Find("dotnet", "DOTNET_HOST_PATH");

    /// <summary>The executable's path, or a skip with the reason and what to install.</summary>
    public string Require(string why)
    {
        if (Path is null)
        {
            Assert.Skip($"{Name} is not installed (not on PATH, {Name.ToUpperInvariant()} unset); {why}");
        }
        return Path;
    }

    /// <summary>Runs the tool and returns its standard output; a non-zero exit fails with its standard error.</summary>
    public string Run(string why, params string[] arguments)
    {
        var start = new ProcessStartInfo(Require(why))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Name} did not start.");
        var error = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (error)
                {
                    error.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(RunTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Name} {string.Join(' ', arguments)} did not finish in {RunTimeout.TotalSeconds} s.");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            lock (error)
            {
                throw new InvalidOperationException(
                    $"{Name} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{error}");
            }
        }
        return output.GetAwaiter().GetResult();
    }

    private static ExternalTool Find(string name, string environmentVariable)
    {
        var configured = Environment.GetEnvironmentVariable(environmentVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return new ExternalTool(name, File.Exists(configured) ? configured : null);
        }
        var fileName = OperatingSystem.IsWindows() ? name + ".exe" : name;
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator))
        {
            if (folder.Length == 0)
            {
                continue;
            }
            var candidate = System.IO.Path.Combine(folder, fileName);
            if (File.Exists(candidate))
            {
                return new ExternalTool(name, candidate);
            }
        }
        return new ExternalTool(name, null);
    }
}
