namespace AnomalyClustering.Testing;

/// <summary>
/// A real Azurite blob emulator (<see cref="AzuriteProcess"/>) for the tests of one class, stopped at the end.
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

    /// <summary>Why Azurite cannot be started here (its launcher is not installed), or null.</summary>
    public static string? MissingReason => File.Exists(Launcher)
        ? null
        : $"Azurite is not installed ({Launcher} is missing); run: npm ci --prefix tools/azurite";

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        SkipReason = MissingReason;
        if (SkipReason is null)
        {
            process = await AzuriteProcess.StartAsync(Launcher);
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
