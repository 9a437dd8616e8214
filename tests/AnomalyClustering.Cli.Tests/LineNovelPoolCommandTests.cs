using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Cli.Demo;
using AnomalyClustering.Grains.Hosting;

namespace AnomalyClustering.Cli.Tests;

/// <summary>
/// The novel pool through the CLI on the embedded store: images decided novel by <c>line feed</c> join the pool once each,
/// <c>line recluster</c> proposes clusters of them, <c>line name</c> makes one a defect type of the next catalog version
/// (earlier decisions keep theirs), and the pool's typed errors (unknown line, empty pool, unknown proposal, name clash)
/// are one-line input errors. The line's acceptance factor is tiny, so that every new image is novel whatever the
/// built-in backbone makes of it. <c>line recluster --server</c> polls a stand-in for the server's API.
/// </summary>
public sealed class LineNovelPoolCommandTests
{
    private static readonly string[] Small = ["--pretrain-dim", "64", "--target-dim", "64", "--mode", "average"];

    [Fact]
    public void NovelImagesArePooledOnceReclusteredAndANamedProposalBecomesTheNextVersionsDefectType()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        CreateLine(folder, store, "plates", []);
        var feed = folder.Combine("feed");
        SyntheticImages.Write(Path.Combine(feed, "a"), DefectType.Scratch, 3, seed: 11);
        SyntheticImages.Write(Path.Combine(feed, "b"), DefectType.Stain, 3, seed: 12);

        CliRun.InProcess(["line", "recluster", "plates", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "novel pool is empty");
        var fed = CliRun.InProcess(["line", "feed", "plates", feed, "--store", store]);
        Assert.True(fed.ExitCode == 0, fed.Error + fed.Output);
        Assert.Contains("novel: 6", fed.Output);
        Assert.Equal(6, PooledImages(store, "plates").Count);
        var refed = CliRun.InProcess(["line", "feed", "plates", feed, "--store", store]);
        Assert.True(refed.ExitCode == 0, refed.Error + refed.Output);
        Assert.Equal(6, PooledImages(store, "plates").Count);
        var pooled = PooledImages(store, "plates");
        Assert.All(pooled, image => Assert.Equal(1, image.GetProperty("catalogVersion").GetInt32()));
        Assert.All(pooled, image => Assert.Equal(64, image.GetProperty("embedding").GetArrayLength()));

        var reclustered = CliRun.InProcess(["line", "recluster", "plates", "--clusters", "2", "--store", store]);

        Assert.True(reclustered.ExitCode == 0, reclustered.Error + reclustered.Output);
        Assert.Contains("recluster 1 of 6 novel images: 2 proposals (number given)", reclustered.Output);
        var proposals = Proposals(store, "plates");
        var sizes = proposals.GetProperty("proposals").EnumerateArray().Select(p => p.GetProperty("size").GetInt32()).ToList();
        Assert.Equal(6, sizes.Sum());
        Assert.True(sizes[0] >= sizes[1], "largest first");
        var members = proposals.GetProperty("proposals").EnumerateArray().SelectMany(p => p.GetProperty("members").EnumerateArray().Select(m => m.GetString()!)).ToHashSet();
        Assert.Equal(pooled.Select(image => image.GetProperty("imageId").GetString()!).ToHashSet(), members);
        var firstSize = sizes[0];

        CliRun.InProcess(["line", "name", "plates", "p7", "dent", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "has no proposal 'p7'");
        CliRun.InProcess(["line", "name", "plates", "p1", "cluster 0", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "already has a defect type named 'cluster 0'");
        CliRun.InProcess(["line", "name", "plates", "p1", "novel", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "decision of its own");
        var named = CliRun.InProcess(["line", "name", "plates", "p1", "dent", "--store", store]);

        Assert.True(named.ExitCode == 0, named.Error + named.Output);
        Assert.Contains("version 2: proposal p1 is now the defect type dent", named.Output);
        var shown = CliRun.InProcess(["line", "show", "plates", "--store", store]);
        Assert.Contains("versions 1, 2", shown.Output);
        Assert.Contains("dent", shown.Output);
        Assert.DoesNotContain("dent", CliRun.InProcess(["line", "show", "plates", "--version", "1", "--store", store]).Output);
        Assert.Equal(6 - firstSize, PooledImages(store, "plates").Count);
        CliRun.InProcess(["line", "name", "plates", "p1", "pit", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "was already named 'dent'");
        // Decisions made before keep the version they were made with: fed again, nothing is decided anew by version 2.
        var again = CliRun.InProcess(["line", "feed", "plates", feed, "--store", store]);
        Assert.True(again.ExitCode == 0, again.Error + again.Output);
        Assert.Contains("(catalog version 2): 6 images decided, 6 of them before this run", again.Output);
        Assert.Equal(6 - firstSize, PooledImages(store, "plates").Count);

        CliRun.InProcess(["line", "recluster", "nothing", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "does not exist");
        CliRun.InProcess(["line", "recluster", "plates", "--clusters", "9", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "between 1 and");
        CliRun.InProcess(["line", "recluster", "plates", "--clusters", "two", "--store", store]).AssertOneLineError(CliExitCodes.InputError, "--clusters is 'two'");
    }

    [Fact]
    public void ReclusterAndNameAreRefusedOnAFolderAServerHoldsAsLineFeedIs()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        CreateLine(folder, store, "plates", []);
        var feed = folder.Combine("feed");
        SyntheticImages.Write(Path.Combine(feed, "a"), DefectType.Scratch, 2, seed: 11);
        SyntheticImages.Write(Path.Combine(feed, "b"), DefectType.Stain, 2, seed: 12);
        var fed = CliRun.InProcess(["line", "feed", "plates", feed, "--store", store]);
        Assert.True(fed.ExitCode == 0, fed.Error + fed.Output);
        const string Refusal = "belongs to a running anomaly-clustering server";

        // A server on the folder holds its lock exclusively for its whole life (its pool grain writes the same blobs).
        using (StoreFolderLock.TakeExclusive(store))
        {
            var feedRefused = CliRun.InProcess(["line", "feed", "plates", feed, "--store", store]);
            feedRefused.AssertOneLineError(CliExitCodes.InputError, Refusal);
            var reclusterRefused = CliRun.InProcess(["line", "recluster", "plates", "--clusters", "2", "--store", store]);
            reclusterRefused.AssertOneLineError(CliExitCodes.InputError, Refusal);
            Assert.Equal(feedRefused.Error, reclusterRefused.Error);
            Assert.False(File.Exists(Path.Combine(LineFolder(store, "plates"), "novel", "proposals.json")), "recluster wrote its proposals beside the server");
        }
        var reclustered = CliRun.InProcess(["line", "recluster", "plates", "--clusters", "2", "--store", store]);
        Assert.True(reclustered.ExitCode == 0, reclustered.Error + reclustered.Output);
        using (StoreFolderLock.TakeExclusive(store))
        {
            var nameRefused = CliRun.InProcess(["line", "name", "plates", "p1", "dent", "--store", store]);
            nameRefused.AssertOneLineError(CliExitCodes.InputError, Refusal);
            Assert.Equal(4, PooledImages(store, "plates").Count);
        }
        var named = CliRun.InProcess(["line", "name", "plates", "p1", "dent", "--store", store]);

        Assert.True(named.ExitCode == 0, named.Error + named.Output);
        Assert.Contains("version 2: proposal p1 is now the defect type dent", named.Output);
        // Held for the command only: a server may take the folder once it ended.
        using var server = StoreFolderLock.TakeExclusive(store);
    }

    [Fact]
    public void APoolWithReclusterEveryMReclustersByItselfAndKeepsOnlyItsCapacity()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        CreateLine(folder, store, "rolls", ["--recluster-every", "3", "--pool-capacity", "4"]);
        var feed = folder.Combine("feed");
        SyntheticImages.Write(Path.Combine(feed, "a"), DefectType.Crack, 3, seed: 21);
        SyntheticImages.Write(Path.Combine(feed, "b"), DefectType.Contamination, 3, seed: 22);

        var fed = CliRun.InProcess(["line", "feed", "rolls", feed, "--store", store]);

        Assert.True(fed.ExitCode == 0, fed.Error + fed.Output);
        Assert.Contains("novel: 6", fed.Output);
        // Six novel images, a bound of four (which four stay, the newest, LineNovelPoolTests checks).
        Assert.Equal(4, PooledImages(store, "rolls").Count);
        // The third novel image reclustered the pool without being asked (more may follow: a recluster per three).
        var proposals = Proposals(store, "rolls");
        Assert.True(proposals.GetProperty("run").GetInt32() >= 1);
        Assert.InRange(proposals.GetProperty("poolSize").GetInt32(), 3, 4);
        Assert.True(proposals.GetProperty("automatic").GetBoolean());
    }

    [Fact]
    public void AReclusterAskedOfAServerPrintsTheFailureOfItsOwnRequestNotOfANewerOne()
    {
        // The poll read only lastReclusterFailure: a later request's failure hid its own, and it said the recluster "ended
        // without a result".
        using var server = new StandInPoolServer(
            accepted: """{"requestId": "request-a", "requestedAt": "2026-12-05T04:00:00+00:00", "clusterCount": 2}""",
            pool: """
                {"line": "rolls", "poolSize": 3, "settings": {"capacity": 2000, "reclusterEvery": 0, "clusterCount": null},
                 "proposals": null, "reclustering": null, "reclustersWaiting": [],
                 "lastReclusterFailure": {"failedAt": "2026-12-05T04:00:02+00:00", "automatic": false, "error": "invalid", "message": "request b's failure", "requestId": "request-b"},
                 "reclusterFailures": [
                   {"failedAt": "2026-12-05T04:00:02+00:00", "automatic": false, "error": "invalid", "message": "request b's failure", "requestId": "request-b"},
                   {"failedAt": "2026-12-05T04:00:01+00:00", "automatic": false, "error": "unavailable", "message": "the blob store could not be reached; ask for the recluster again once the store is back.", "requestId": "request-a"}]}
                """);

        var run = CliRun.InProcess(["line", "recluster", "rolls", "--clusters", "2", "--server", server.Address]);

        run.AssertOneLineError(CliExitCodes.InputError, "line 'rolls': the blob store could not be reached; ask for the recluster again");
        Assert.Equal(["POST /lines/rolls/recluster", "GET /lines/rolls/novel"], server.Requests.Distinct());
    }

    [Theory]
    [InlineData("--pool-capacity", "0", "the novel pool's capacity is 0; it must be 1 to 20000 images.")]
    [InlineData("--pool-capacity", "20001", "the novel pool's capacity is 20001; it must be 1 to 20000 images.")]
    [InlineData("--recluster-every", "-1", "recluster-every is -1; it must be 0 (never) or a number of novel images.")]
    public void ALineCreateOnAServerWithPoolSettingsOutOfRangeIsRefusedBeforeAnythingIsSent(string option, string value, string message)
    {
        // The command sent POST /lines first and the pool settings after: the server refused the settings, but the catalog
        // version it had made stayed.
        using var server = new StandInPoolServer(accepted: "{}", pool: "{}");

        var run = CliRun.InProcess(["line", "create", "rolls", "--from-job", "job-1", "--server", server.Address, option, value]);

        run.AssertOneLineError(CliExitCodes.InputError, message);
        Assert.Empty(server.Requests);
    }

    private static void CreateLine(TempFolder folder, string store, string line, string[] poolOptions)
    {
        var images = folder.Combine("images");
        SyntheticImages.Write(Path.Combine(images, "good"), DefectType.Good, 3, seed: 1);
        SyntheticImages.Write(Path.Combine(images, "hole"), DefectType.Hole, 3, seed: 2);
        var clustered = CliRun.InProcess(["cluster", images, "-k", "2", "-o", folder.Combine("out"), "--store", store, .. Small]);
        Assert.True(clustered.ExitCode == 0, clustered.Error);
        // A radius of a millionth of each cluster's spread: any image that is not a member itself is novel.
        var created = CliRun.InProcess(["line", "create", line, "--from-result", folder.Combine("out"), "--acceptance-factor", "0.000001", "--store", store, .. poolOptions]);
        Assert.True(created.ExitCode == 0, created.Error + created.Output);
    }

    private static string LineFolder(string store, string line) => Path.Combine(store, "blobs", "lines", "_", line);

    private static List<JsonElement> PooledImages(string store, string line)
    {
        var images = Path.Combine(LineFolder(store, line), "novel", "images");
        return Directory.Exists(images) ? [.. Directory.GetFiles(images, "*.json").Select(file => JsonDocument.Parse(File.ReadAllBytes(file)).RootElement.Clone())] : [];
    }

    private static JsonElement Proposals(string store, string line) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(LineFolder(store, line), "novel", "proposals.json"))).RootElement.Clone();

    /// <summary>
    /// A stand-in for a server's novel-pool API on a free local port: <c>POST .../recluster</c> answers 202 with
    /// <paramref name="accepted"/>, any <c>GET</c> answers <paramref name="pool"/>; the requests are recorded.
    /// </summary>
    private sealed class StandInPoolServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public StandInPoolServer(string accepted, string pool)
        {
            var port = FreePort();
            Address = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Address);
            _listener.Start();
            _serving = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }
                    var request = context.Request;
                    Requests.Enqueue($"{request.HttpMethod} {request.Url!.AbsolutePath}");
                    var (status, body) = request.HttpMethod == "POST" ? (202, accepted) : (200, pool);
                    var bytes = Encoding.UTF8.GetBytes(body);
                    context.Response.StatusCode = status;
                    context.Response.ContentType = "application/json";
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        /// <summary>The address to give <c>--server</c>.</summary>
        public string Address { get; }

        /// <summary>The requests answered, as <c>METHOD /path</c>.</summary>
        public System.Collections.Concurrent.ConcurrentQueue<string> Requests { get; } = new();

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(30));
        }

        private static int FreePort()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
    }
}
