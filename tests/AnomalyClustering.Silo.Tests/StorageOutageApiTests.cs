using System.Net;
using System.Text.Json;
using AnomalyClustering.Cli.Tests;
using AnomalyClustering.Silo.Api;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Silo.Tests;

/// <summary>
/// The blob store (a real Azurite) stopped under a running coordinator: routes that need the store answer 503 with
/// Retry-After and a ProblemDetails naming the blob store and an incident, never a 500 or the store's address; with the
/// store back the same requests are answered as before.
/// </summary>
public sealed class StorageOutageApiTests
{
    [Fact]
    public async Task AStoppedStoreIsA503WithRetryAfterAndTheStoreBackAnswersAgain()
    {
        if (AzuriteFixture.MissingReason is { } missing)
        {
            Assert.Skip(missing);
        }
        var cancel = TestContext.Current.CancellationToken;
        await using var azurite = await AzuriteProcess.StartAsync(AzuriteFixture.Launcher, onDisk: true);
        using var tokens = new TestTokens();
        await using var silo = await StandaloneSilo.StartAsync(tokens, new Dictionary<string, string?>
        {
            ["AnomalyClustering:Storage:Kind"] = "AzureBlob",
            ["ConnectionStrings:Blobs"] = azurite.ConnectionString,
        });
        using var client = silo.AdminClient();
        using var folder = new TempFolder();
        ApiDatasets.WriteClassFolders(folder.Path, perClass: 1, seed: 5);
        var unknown = "outage-" + Guid.NewGuid().ToString("N");
        using (var before = await client.GetAsync($"/jobs/{unknown}", cancel))
        {
            Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        }

        await azurite.StopAsync();

        // An unknown job is looked for in the store (a result without coordinator state); an upload is written to it.
        using (var lookup = await client.GetAsync($"/jobs/{unknown}", cancel))
        {
            await AssertUnavailableAsync(lookup);
        }
        using (var form = ApiDatasets.UploadForm(folder.Path, ApiDatasets.Small))
        using (var upload = await client.PostAsync("/jobs/upload", form, cancel))
        {
            await AssertUnavailableAsync(upload);
        }

        await azurite.RestartAsync();
        using var after = await client.GetAsync($"/jobs/{unknown}", cancel);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.RequestMessage?.RequestUri}: {response.StatusCode} {text}");
        Assert.Equal(TimeSpan.FromSeconds(DependencyOutageAnswer.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("blob store", problem.RootElement.GetProperty("dependency").GetString());
        Assert.Matches("^[0-9a-f]{12}$", problem.RootElement.GetProperty("incident").GetString()!);
        Assert.Contains("send the request again", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // Nothing of the store's address or the SDK's text reaches the caller.
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("devstoreaccount1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
    }
}
