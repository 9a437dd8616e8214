using Microsoft.Playwright;

namespace AnomalyClustering.Testing.Browser;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>, or ANOMALY_CLUSTERING_CHROMIUM) driven by Playwright's bundled driver,
/// started once for a test assembly (each project that uses it declares it as an assembly fixture and includes this file
/// from tests/Shared/Browser). Nothing is downloaded: the browser is the system's. Tests skip with the reason
/// when the browser is not installed.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    /// <summary>Where Debian's chromium package puts the browser.</summary>
    public const string DefaultExecutable = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private string? _skipReason;

    /// <summary>The folder screenshots are kept in (next to the test assembly).</summary>
    public static string ArtifactsFolder => Path.Combine(AppContext.BaseDirectory, "artifacts");

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("ANOMALY_CLUSTERING_CHROMIUM") is { Length: > 0 } configured ? configured : DefaultExecutable;
        if (!File.Exists(executable))
        {
            _skipReason = $"{executable} is absent: install Debian's chromium package (apt-get install -y chromium) to run the browser tests.";
            return;
        }
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Containers run as root without user namespaces; file:// reports load thumbnails from beside them.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--allow-file-access-from-files"],
        });
    }

    /// <summary>The browser, or a skip with the reason when it is not installed.</summary>
    public IBrowser Browser
    {
        get
        {
            if (_skipReason is not null)
            {
                Assert.Skip(_skipReason);
            }
            return _browser!;
        }
    }

    /// <summary>
    /// Opens a report (a file path, or an http URL of a report the API serves) in a fresh page and waits until its script has
    /// rendered the galleries; page errors (Content-Security-Policy violations among them) are collected. A
    /// <paramref name="bearerToken"/> goes with every request of the page, as an authenticating proxy in front of the API adds it.
    /// </summary>
    public async Task<ReportPage> OpenAsync(string htmlPath, string? bearerToken = null)
    {
        var options = new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, AcceptDownloads = true };
        if (bearerToken is not null)
        {
            options.ExtraHTTPHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + bearerToken };
        }
        var context = await Browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        var address = htmlPath.StartsWith("http://", StringComparison.Ordinal) || htmlPath.StartsWith("https://", StringComparison.Ordinal)
            ? htmlPath
            : new Uri(htmlPath).AbsoluteUri;
        await page.GotoAsync(address);
        await page.WaitForSelectorAsync("body[data-ready='true']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        return new ReportPage(page, errors);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}

/// <summary>An open report and the script errors it raised.</summary>
/// <param name="Page">The page.</param>
/// <param name="Errors">Uncaught exceptions and console errors so far.</param>
public sealed record ReportPage(IPage Page, List<string> Errors) : IAsyncDisposable
{
    /// <summary>Saves a full-page screenshot into the artifacts folder, prints its path and returns it.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ChromiumFixture.ArtifactsFolder);
        var path = Path.Combine(ChromiumFixture.ArtifactsFolder, name);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {path}");
        Console.WriteLine($"screenshot: {path}");
        return path;
    }

    /// <summary>Makes every lazy image load now and waits until all have decoded; returns how many did.</summary>
    public async Task<int> LoadAllImagesAsync(string selector) =>
        await Page.EvaluateAsync<int>(
            @"async (selector) => {
                const images = [...document.querySelectorAll(selector)];
                for (const image of images) image.loading = 'eager';
                await Promise.all(images.map(image => image.decode()));
                return images.filter(image => image.complete && image.naturalWidth > 0).length;
            }",
            selector);

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await Page.Context.DisposeAsync();
}
