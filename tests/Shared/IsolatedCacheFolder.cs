using System.Runtime.CompilerServices;

namespace AnomalyClustering.Testing;

/// <summary>
/// Points the CLI's default store (<c>$XDG_CACHE_HOME/anomaly-clustering</c>) at a folder of this test process, so that
/// tests neither read features cached by earlier runs nor fill the developer's cache; removed when the process exits,
/// with the scratch folders tests take from it.
/// </summary>
internal static class IsolatedCacheFolder
{
    private static readonly string ProcessFolder = Path.Combine(Path.GetTempPath(), $"anomaly-clustering-test-cache-{Environment.ProcessId}");

    /// <summary>A new folder for a test's files, inside this process's folder: removed with it when the process exits.</summary>
    public static string NewScratchFolder(string name)
    {
        var scratch = Path.Combine(ProcessFolder, "scratch", $"{name}-{Guid.NewGuid():n}");
        Directory.CreateDirectory(scratch);
        return scratch;
    }

    [ModuleInitializer]
    internal static void Initialize()
    {
        var folder = ProcessFolder;
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A leftover in the temp folder must not fail the run.
            }
        };
    }
}
