using System.Globalization;

namespace AnomalyClustering.Benchmarks;

/// <summary>The command-line options and the places every benchmark looks up in the same way.</summary>
internal static class BenchmarkArgs
{
    /// <summary>The value after <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    /// <summary>The whole number after <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public static int Int(string[] args, string name, int fallback) =>
        int.Parse(Option(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>The existing file named after <paramref name="name"/> (full path), or null when the option is absent.</summary>
    /// <exception cref="FileNotFoundException">The option names a file that does not exist.</exception>
    public static string? OptionalFile(string[] args, string name)
    {
        var value = Option(args, name, "");
        if (value.Length == 0)
        {
            return null;
        }
        var path = Path.GetFullPath(value);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{name}: {path} does not exist.", path);
    }

    /// <summary>The repository root (the folder holding AnomalyClustering.sln) above the benchmark's own assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AnomalyClustering.sln")))
            {
                return dir.FullName;
            }
        }
        return Environment.CurrentDirectory;
    }

    /// <summary>The shared data and models: ANOMALY_CLUSTERING_SHARED, else ../shared beside the repository.</summary>
    public static string SharedFolder() =>
        Environment.GetEnvironmentVariable("ANOMALY_CLUSTERING_SHARED") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared"));
}
