namespace AnomalyClustering.Testing;

/// <summary>
/// A real Azurite emulator, its blob and queue services (<see cref="AzuriteProcess"/>), for the tests of one class, stopped at the end.
/// Absent installation: <see cref="SkipReason"/> says so and the tests skip.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? process;

    /// <summary>Why the Azure tests cannot run here, or null when Azurite is running.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>A connection string to the running emulator.</summary>
    public string ConnectionString => process?.ConnectionString ?? "";

    /// <summary>The azurite-blob launcher inside the committed npm manifest's install.</summary>
    public static string Launcher => AzuriteProcess.Launcher(TestPaths.RepositoryRoot);

    /// <summary>The azurite-queue launcher inside the committed npm manifest's install.</summary>
    public static string QueueLauncher => AzuriteProcess.QueueLauncher(TestPaths.RepositoryRoot);

    /// <summary>Why Azurite cannot be started here (its launchers are not installed), or null.</summary>
    public static string? MissingReason => File.Exists(Launcher) && File.Exists(QueueLauncher)
        ? null
        : $"Azurite is not installed ({Launcher} or {QueueLauncher} is missing); run: npm ci --prefix tools/azurite";

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        SkipReason = MissingReason;
        if (SkipReason is null)
        {
            process = await AzuriteProcess.StartAsync(Launcher, queueLauncher: QueueLauncher);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
            process = null;
        }
    }
}
