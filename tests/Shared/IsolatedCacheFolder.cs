using System.Runtime.CompilerServices;

namespace AnomalyClustering.Testing;

/// <summary>
/// Points the CLI's default store (<c>$XDG_CACHE_HOME/anomaly-clustering</c>) at a folder of this test process, so that
/// tests neither read features cached by earlier runs nor fill the developer's cache; removed when the process exits.
/// </summary>
internal static class IsolatedCacheFolder
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"anomaly-clustering-test-cache-{Environment.ProcessId}");
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
