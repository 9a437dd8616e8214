using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using AnomalyClustering.Abstractions.Jobs;

namespace AnomalyClustering.Cli.Remote;

/// <summary>A file to upload: its name in the dataset (its path below the dataset folder, '/'-separated), where it is, and its role.</summary>
/// <param name="Name">The name the server stores and reports it under, e.g. <c>test/crack/000.png</c>.</param>
/// <param name="Path">The local file.</param>
/// <param name="IsNormalImage">True for a normal (defect-free) image of semi-supervised mode.</param>
internal sealed record UploadFile(string Name, string Path, bool IsNormalImage);

/// <summary>
/// The client of the server's job API (<c>/jobs</c>). Failures become <see cref="CliInputException"/> with one line a person
/// can act on: the server's ProblemDetails, or that the server cannot be reached (naming its address).
/// </summary>
internal sealed class JobApiClient : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http;

    /// <summary>A client of the server at <paramref name="server"/> (e.g. <c>http://host:8080</c>) that sends <paramref name="bearerToken"/> when given.</summary>
    public JobApiClient(Uri server, string? bearerToken = null, HttpMessageHandler? handler = null)
    {
        Server = server;
        // Uploads of large datasets take as long as they take; every other call has its own timeout.
        // Uploads ask to continue (see UploadAsync); a server that answers within this long refuses before the images are sent.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(5) });
        _http.BaseAddress = server;
        _http.Timeout = Timeout.InfiniteTimeSpan;
        if (bearerToken is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
        }
    }

    /// <summary>The server's address.</summary>
    public Uri Server { get; }

    /// <summary>The JSON conventions of the API: camelCase, enums as camelCase strings.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Parses <c>--server</c>: an absolute http or https address.</summary>
    /// <exception cref="CliInputException">Anything else.</exception>
    public static Uri ParseServer(string text)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }
        throw new CliInputException($"--server '{text}' is not an http(s) address; give the API's address, e.g. http://localhost:8080.");
    }

    /// <summary>
    /// Uploads <paramref name="files"/> with the job's fields (<c>POST /jobs/upload</c>, multipart, each file streamed from
    /// disk when its turn comes) and returns the accepted job. <paramref name="bytesSent"/> hears the running byte count.
    /// </summary>
    public async Task<JobStatus> UploadAsync(
        string jobId, JobOptions options, string? backboneName, IReadOnlyList<UploadFile> files, IProgress<long>? bytesSent, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        // The job id first: it names where the server stores the files.
        form.Add(new StringContent(jobId), "jobId");
        form.Add(new StringContent(JsonSerializer.Serialize(options, Json)), "options");
        if (backboneName is not null)
        {
            form.Add(new StringContent(backboneName), "backbone");
        }
        var sent = new SentBytes(bytesSent);
        foreach (var file in files)
        {
            form.Add(new FileUploadContent(file.Path, sent), file.IsNormalImage ? "normal" : "images", file.Name);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "jobs/upload") { Content = form };
        // A server that refuses the upload (too large, a bad field) says so before the images are sent, not after.
        request.Headers.ExpectContinue = true;
        return await SendAsync<JobStatus>(request, timeout: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The job's status (<c>GET /jobs/{id}</c>).</summary>
    public Task<JobStatus> GetStatusAsync(string jobId, CancellationToken cancellationToken) =>
        SendAsync<JobStatus>(new HttpRequestMessage(HttpMethod.Get, $"jobs/{Uri.EscapeDataString(jobId)}"), CallTimeout, cancellationToken);

    /// <summary>Starts a failed or cancelled job again (<c>POST /jobs/{id}/retry</c>); any other job's status as it is.</summary>
    public Task<JobStatus> RetryAsync(string jobId, CancellationToken cancellationToken) =>
        SendAsync<JobStatus>(new HttpRequestMessage(HttpMethod.Post, $"jobs/{Uri.EscapeDataString(jobId)}/retry"), CallTimeout, cancellationToken);

    /// <summary>Cancels the job (<c>POST /jobs/{id}/cancel</c>).</summary>
    public Task<JobStatus> CancelAsync(string jobId, CancellationToken cancellationToken) =>
        SendAsync<JobStatus>(new HttpRequestMessage(HttpMethod.Post, $"jobs/{Uri.EscapeDataString(jobId)}/cancel"), CallTimeout, cancellationToken);

    /// <summary>
    /// Deletes the job and its blobs (<c>DELETE /jobs/{id}</c>) and returns once it is gone: at once on 204, or, on 202 (a
    /// deletion that outlasts the server's wait: its coordinator goes on with it), after following <c>GET /jobs/{id}</c>
    /// until 404, with each status it read told to <paramref name="following"/> (blobs deleted so far, a failure retried).
    /// </summary>
    public async Task DeleteAsync(string jobId, Action<JobStatus>? following, CancellationToken cancellationToken)
    {
        DateTimeOffset? started;
        using (var request = new HttpRequestMessage(HttpMethod.Delete, $"jobs/{Uri.EscapeDataString(jobId)}"))
        using (var response = await SendRawAsync(request, CallTimeout, cancellationToken).ConfigureAwait(false))
        {
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                return;
            }
            started = (await response.Content.ReadFromJsonAsync<JobStatus>(Json, cancellationToken).ConfigureAwait(false))?.DeletionStartedAt;
        }
        while (true)
        {
            await Task.Delay(DeletionPollInterval, cancellationToken).ConfigureAwait(false);
            using var poll = new HttpRequestMessage(HttpMethod.Get, $"jobs/{Uri.EscapeDataString(jobId)}");
            using var response = await SendRawAsync(poll, CallTimeout, cancellationToken, notFoundIsAnswer: true).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }
            var status = await response.Content.ReadFromJsonAsync<JobStatus>(Json, cancellationToken).ConfigureAwait(false);
            // Not being deleted any more, or by another deletion: this one ended and a new job has the id.
            if (status?.DeletionStartedAt is null || status.DeletionStartedAt != started)
            {
                return;
            }
            following?.Invoke(status);
        }
    }

    // A deletion that outlasted the server's 10 s wait is a large one: minutes, not seconds.
    private static readonly TimeSpan DeletionPollInterval = TimeSpan.FromSeconds(2);

    /// <summary>The newest jobs (<c>GET /jobs</c>).</summary>
    public Task<JobStatus[]> ListAsync(int limit, CancellationToken cancellationToken) =>
        SendAsync<JobStatus[]>(new HttpRequestMessage(HttpMethod.Get, $"jobs?limit={limit}"), CallTimeout, cancellationToken);

    /// <summary>
    /// Downloads the job's result into <paramref name="folder"/>: its summary (<c>GET /jobs/{id}/result</c>) as result.json and
    /// every result file the server has (<c>GET /jobs/{id}/result/files/{name}</c>; optional ones may be absent), each
    /// streamed to disk. Returns the summary's path.
    /// </summary>
    public async Task<string> DownloadResultAsync(string jobId, string folder, IReadOnlyList<string> fileNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fileNames);
        var job = Uri.EscapeDataString(jobId);
        var summaryPath = Path.Combine(folder, "result.json");
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"jobs/{job}/result"))
        {
            await DownloadAsync(request, summaryPath, notFoundIsAbsent: false, cancellationToken).ConfigureAwait(false);
        }
        foreach (var name in fileNames)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"jobs/{job}/result/files/{Uri.EscapeDataString(name)}");
            await DownloadAsync(request, Path.Combine(folder, name), notFoundIsAbsent: true, cancellationToken).ConfigureAwait(false);
        }
        return summaryPath;
    }

    private async Task DownloadAsync(HttpRequestMessage request, string path, bool notFoundIsAbsent, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(request, timeout: null, cancellationToken, notFoundIsAbsent).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return;
        }
        await using var file = File.Create(path);
        await response.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>Decides images against line <paramref name="line"/> (<c>POST /lines/{line}/images</c>, at most 32 files a call).</summary>
    public Task<LineImagesAnswer> DecideLineImagesAsync(string line, IReadOnlyList<(string FileName, byte[] Bytes)> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var form = new MultipartFormDataContent();
        foreach (var (fileName, bytes) in files)
        {
            form.Add(new ByteArrayContent(bytes), "images", fileName);
        }
        return SendAsync<LineImagesAnswer>(new HttpRequestMessage(HttpMethod.Post, $"lines/{Uri.EscapeDataString(line)}/images") { Content = form }, CallTimeout * 5, cancellationToken);
    }

    /// <summary>A line's catalog as the server shows it (<c>GET /lines/{line}</c>); a 404 is a one-line error naming the line.</summary>
    public Task<LineShownAnswer> GetLineAsync(string line, CancellationToken cancellationToken) =>
        SendAsync<LineShownAnswer>(new HttpRequestMessage(HttpMethod.Get, $"lines/{Uri.EscapeDataString(line)}"), CallTimeout, cancellationToken);

    /// <summary>Makes the next catalog version of line <paramref name="line"/> from completed job <paramref name="jobId"/> (<c>POST /lines</c>).</summary>
    public Task<AnomalyClustering.Grains.Lines.LineView> CreateLineAsync(string line, string jobId, AnomalyClustering.Core.Lines.AssignmentRuleSettings rule, CancellationToken cancellationToken) =>
        SendAsync<AnomalyClustering.Grains.Lines.LineView>(new HttpRequestMessage(HttpMethod.Post, "lines")
        {
            Content = JsonContent.Create(new { name = line, fromJob = jobId, margin = rule.Margin, acceptanceFactor = rule.AcceptanceFactor }, options: Json),
        }, CallTimeout, cancellationToken);

    /// <summary>Catalog version <paramref name="version"/> (null: the newest) of line <paramref name="line"/> (<c>GET /lines/{line}?version=</c>).</summary>
    public Task<AnomalyClustering.Grains.Lines.LineView> GetLineCatalogAsync(string line, int? version, CancellationToken cancellationToken) =>
        SendAsync<AnomalyClustering.Grains.Lines.LineView>(new HttpRequestMessage(HttpMethod.Get,
            $"lines/{Uri.EscapeDataString(line)}" + (version is { } v ? string.Create(CultureInfo.InvariantCulture, $"?version={v}") : "")), CallTimeout, cancellationToken);

    /// <summary>The novel-pool settings of line <paramref name="line"/> (<c>GET /lines/{line}/novel</c>).</summary>
    public async Task<AnomalyClustering.Abstractions.Lines.NovelPoolSettings> GetLinePoolSettingsAsync(string line, CancellationToken cancellationToken) =>
        (await SendAsync<LinePoolAnswer>(new HttpRequestMessage(HttpMethod.Get, $"lines/{Uri.EscapeDataString(line)}/novel"), CallTimeout, cancellationToken).ConfigureAwait(false)).Settings;

    /// <summary>Sets the novel-pool settings of line <paramref name="line"/> (<c>PUT /lines/{line}/novel/settings</c>).</summary>
    public Task<AnomalyClustering.Abstractions.Lines.NovelPoolSettings> SetLinePoolSettingsAsync(
        string line, AnomalyClustering.Abstractions.Lines.NovelPoolSettings settings, CancellationToken cancellationToken) =>
        SendAsync<AnomalyClustering.Abstractions.Lines.NovelPoolSettings>(new HttpRequestMessage(HttpMethod.Put, $"lines/{Uri.EscapeDataString(line)}/novel/settings")
        {
            Content = JsonContent.Create(settings, options: Json),
        }, CallTimeout, cancellationToken);

    /// <summary>One page of a line's decisions in a window (<c>GET /lines/{line}/decisions</c>).</summary>
    public Task<LineDecisionsAnswer> GetLineDecisionsAsync(
        string line, DateTimeOffset since, DateTimeOffset until, int limit, string? continuation, CancellationToken cancellationToken)
    {
        var query = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"lines/{Uri.EscapeDataString(line)}/decisions?since={Uri.EscapeDataString(since.ToString("O"))}&until={Uri.EscapeDataString(until.ToString("O"))}&limit={limit}");
        if (continuation is not null)
        {
            query += "&continuation=" + Uri.EscapeDataString(continuation);
        }
        return SendAsync<LineDecisionsAnswer>(new HttpRequestMessage(HttpMethod.Get, query), CallTimeout, cancellationToken);
    }

    /// <summary>A posted image of a line (<c>GET /lines/{line}/images/{imageId}</c>), or null when the line does not hold it.</summary>
    public async Task<byte[]?> GetLineImageAsync(string line, string imageId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"lines/{Uri.EscapeDataString(line)}/images/{Uri.EscapeDataString(imageId)}");
        using var response = await SendRawAsync(request, CallTimeout, cancellationToken, notFoundIsAnswer: true).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An image's patch weights (<c>GET /lines/{line}/images/{imageId}/weights</c>), or null when it has none.</summary>
    public async Task<float[]?> GetLineImageWeightsAsync(string line, string imageId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"lines/{Uri.EscapeDataString(line)}/images/{Uri.EscapeDataString(imageId)}/weights");
        using var response = await SendRawAsync(request, CallTimeout, cancellationToken, notFoundIsAnswer: true).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? null
            : (await response.Content.ReadFromJsonAsync<LineWeightsAnswer>(Json, cancellationToken).ConfigureAwait(false))?.Weights;
    }

    /// <summary>How often <see cref="ReclusterLineAsync"/> asks whether the recluster ended.</summary>
    private static readonly TimeSpan ReclusterPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Clusters line <paramref name="line"/>'s novel pool into <paramref name="clusters"/> proposals, or an automatic number:
    /// asks for the recluster (<c>POST /lines/{line}/recluster</c>, answered 202 at once), then polls <c>GET /lines/{line}/novel</c>
    /// until its proposals are stored (answered) or its failure is (thrown); <paramref name="progress"/> hears each new state.
    /// </summary>
    /// <exception cref="AnomalyClustering.Abstractions.Lines.NovelPoolException">The recluster failed, or ended without a trace (the server restarted).</exception>
    public async Task<AnomalyClustering.Abstractions.Lines.NovelProposalSet> ReclusterLineAsync(string line, int? clusters, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var request = await SendAsync<AnomalyClustering.Abstractions.Lines.NovelReclusterRequest>(new HttpRequestMessage(HttpMethod.Post, $"lines/{Uri.EscapeDataString(line)}/recluster")
        {
            Content = JsonContent.Create(new Dictionary<string, object> { ["clusters"] = clusters is { } k ? k : "auto" }, options: Json),
        }, CallTimeout, cancellationToken).ConfigureAwait(false);
        string? shown = null;
        while (true)
        {
            var pool = await SendAsync<LineReclusterAnswer>(new HttpRequestMessage(HttpMethod.Get, $"lines/{Uri.EscapeDataString(line)}/novel"), CallTimeout, cancellationToken).ConfigureAwait(false);
            if (pool.Proposals is { } set && set.RequestId == request.RequestId)
            {
                return set;
            }
            // Looked up by its own id: another request's failure may be newer (a server before reclusterFailures has only the newest).
            if ((pool.ReclusterFailures ?? []).Append(pool.LastReclusterFailure).FirstOrDefault(failure => failure?.RequestId == request.RequestId) is { } failed)
            {
                throw new AnomalyClustering.Abstractions.Lines.NovelPoolException(failed.Error, failed.Message);
            }
            var state = pool.Reclustering?.RequestId == request.RequestId ? "reclustering the pool"
                : pool.ReclustersWaiting?.Any(waiting => waiting.RequestId == request.RequestId) == true ? "waiting for the recluster running now"
                : null;
            if (state is null)
            {
                // Neither running nor waiting, and not the newest result: a later recluster (which read the pool after this
                // request) replaced its proposals, or the server lost it.
                return pool.Proposals is { } later && later.CreatedAt >= request.RequestedAt ? later
                    : throw new AnomalyClustering.Abstractions.Lines.NovelPoolException(AnomalyClustering.Abstractions.Lines.NovelPoolError.Conflict,
                        $"the recluster asked for ({request.RequestId}) ended without a result (the server may have restarted); ask again.");
            }
            if (state != shown)
            {
                progress(state);
                shown = state;
            }
            await Task.Delay(ReclusterPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Names proposal <paramref name="proposal"/> of line <paramref name="line"/>; answers the line's new catalog version (<c>POST /lines/{line}/proposals/{proposal}/name</c>).</summary>
    public async Task<int> NameLineProposalAsync(string line, string proposal, string name, CancellationToken cancellationToken)
    {
        var view = await SendAsync<LineVersionAnswer>(new HttpRequestMessage(HttpMethod.Post, $"lines/{Uri.EscapeDataString(line)}/proposals/{Uri.EscapeDataString(proposal)}/name")
        {
            Content = JsonContent.Create(new Dictionary<string, string> { ["name"] = name }, options: Json),
        }, CallTimeout, cancellationToken).ConfigureAwait(false);
        return view.Version;
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        using (request)
        {
            using var response = await SendRawAsync(request, timeout, cancellationToken).ConfigureAwait(false);
            try
            {
                return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
                    ?? throw new CliInputException($"the server at {Server} answered {request.RequestUri} with an empty body.");
            }
            catch (JsonException e)
            {
                throw new CliInputException($"the server at {Server} answered {request.RequestUri} with something other than the job API's JSON ({e.Message}); is --server the anomaly-clustering API?", e);
            }
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, TimeSpan? timeout, CancellationToken cancellationToken, bool notFoundIsAnswer = false)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } limit)
        {
            deadline.CancelAfter(limit);
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (UnreadableUploadFileException.In(e) is { } unreadable)
        {
            // Not the server's doing: the files were checked before the upload, so this one went away or changed since.
            throw new CliInputException(
                $"the upload stopped: cannot read {unreadable.Path} ({unreadable.InnerException?.Message}); it was readable when the upload started. Run the command again.", e);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                                                 || e.InnerException is SocketException)
        {
            throw new CliInputException($"cannot reach the server at {Server}: {e.Message} Is it running, and is --server its address?", e);
        }
        catch (HttpRequestException e)
        {
            // A server that refuses an upload mid-way (too large) closes the connection: the client sees the broken pipe only.
            throw new CliInputException(
                $"the request to the server at {Server} failed: {e.Message}{(e.InnerException is IOException ? " (the server may have refused the upload as too large; its log says why)" : "")}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliInputException($"the server at {Server} did not answer {request.Method} {request.RequestUri} within {timeout?.TotalSeconds} s.", e);
        }
        if (response.IsSuccessStatusCode || (notFoundIsAnswer && response.StatusCode == HttpStatusCode.NotFound))
        {
            return response;
        }
        using (response)
        {
            throw new CliInputException(await DescribeFailureAsync(response, cancellationToken).ConfigureAwait(false));
        }
    }

    private async Task<string> DescribeFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && (root.TryGetProperty("detail", out var detail) || root.TryGetProperty("title", out detail))
                && detail.ValueKind == JsonValueKind.String)
            {
                return $"the server refused: {detail.GetString()} ({status})";
            }
        }
        catch (JsonException)
        {
            // Not a ProblemDetails: a proxy's page or another service; its status is all that can be said.
        }
        return response.StatusCode == HttpStatusCode.NotFound
            ? $"the server at {Server} has no {response.RequestMessage?.RequestUri?.AbsolutePath} ({status}); is --server the anomaly-clustering API?"
            : $"the server at {Server} answered {status}.";
    }

    /// <summary>The running total of uploaded bytes, reported as files stream.</summary>
    private sealed class SentBytes(IProgress<long>? progress)
    {
        private long _total;

        public void Add(int count) => progress?.Report(Interlocked.Add(ref _total, count));
    }

    /// <summary>A file's bytes as one multipart part, opened only when the part is sent (not thousands of open files at once).</summary>
    private sealed class FileUploadContent : HttpContent
    {
        private readonly string _path;
        private readonly SentBytes _sent;

        public FileUploadContent(string path, SentBytes sent)
        {
            _path = path;
            _sent = sent;
            Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var file = Open();
            var buffer = new byte[81920];
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                _sent.Add(read);
            }
        }

        private FileStream Open()
        {
            try
            {
                return new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not an IOException itself: HttpClient reports those as a broken connection, which reads like the server's refusal.
                throw new UnreadableUploadFileException(_path, e);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            try
            {
                length = new FileInfo(_path).Length;
                return true;
            }
            catch (IOException)
            {
                // Gone since it was checked: the upload goes without a length, and opening the file says what is wrong.
                length = 0;
                return false;
            }
        }
    }

    /// <summary>A file to upload that could not be opened when its turn came.</summary>
    private sealed class UnreadableUploadFileException(string path, Exception inner) : Exception($"cannot read {path}: {inner.Message}", inner)
    {
        public string Path { get; } = path;

        /// <summary>The unreadable file behind <paramref name="exception"/>, which HttpClient may have wrapped more than once.</summary>
        public static UnreadableUploadFileException? In(Exception exception)
        {
            for (Exception? current = exception; current is not null; current = current.InnerException)
            {
                if (current is UnreadableUploadFileException unreadable)
                {
                    return unreadable;
                }
            }
            return null;
        }
    }
}

/// <summary>The answer of <c>POST /lines/{line}/images</c>: the catalog version, and per posted file its decision or error.</summary>
internal sealed record LineImagesAnswer(string Line, int CatalogVersion, IReadOnlyList<AnomalyClustering.Grains.Lines.LineImageResult> Images);

/// <summary>What <c>line report</c> needs of <c>GET /lines/{line}</c>: that the line exists, and its newest version.</summary>
internal sealed record LineShownAnswer(string Name, int Version);

/// <summary>A page of <c>GET /lines/{line}/decisions</c>.</summary>
internal sealed record LineDecisionsAnswer(string Line, IReadOnlyList<AnomalyClustering.Grains.Lines.LineDecision> Decisions, string? Next);

/// <summary>The answer of <c>GET /lines/{line}/images/{imageId}/weights</c>.</summary>
internal sealed record LineWeightsAnswer(string ImageId, float[] Weights);

/// <summary>The part of <c>GET /lines/{line}/novel</c> the CLI reads: the pool's settings.</summary>
internal sealed record LinePoolAnswer(AnomalyClustering.Abstractions.Lines.NovelPoolSettings Settings);

/// <summary>The part of <c>GET /lines/{line}/novel</c> a recluster's poll reads.</summary>
internal sealed record LineReclusterAnswer(
    AnomalyClustering.Abstractions.Lines.NovelProposalSet? Proposals,
    AnomalyClustering.Abstractions.Lines.NovelReclusterInProgress? Reclustering,
    IReadOnlyList<AnomalyClustering.Abstractions.Lines.NovelReclusterRequest>? ReclustersWaiting,
    AnomalyClustering.Abstractions.Lines.NovelReclusterFailure? LastReclusterFailure,
    IReadOnlyList<AnomalyClustering.Abstractions.Lines.NovelReclusterFailure>? ReclusterFailures = null);

/// <summary>The part of a line's view the CLI reads after naming a proposal: the new catalog version.</summary>
internal sealed record LineVersionAnswer(string Name, int Version);
