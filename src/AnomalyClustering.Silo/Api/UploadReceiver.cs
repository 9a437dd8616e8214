using System.Text;
using System.Text.Json;
using AnomalyClustering.Abstractions.Jobs;
using AnomalyClustering.Embedding.Datasets;
using AnomalyClustering.Grains.Jobs;
using AnomalyClustering.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AnomalyClustering.Silo.Api;

/// <summary>What an upload request carried: its job id, its form fields, and the files it stored.</summary>
/// <param name="JobId">The job id (given, or made when the first file arrived).</param>
/// <param name="Options">The options field, parsed; null when absent.</param>
/// <param name="BackboneJson">The description of the backbone the field names (checked when it arrived); null when absent.</param>
/// <param name="ImageNames">The image files, by their paths as sent (below <see cref="JobBlobNames.UploadedImagesPrefix"/>).</param>
/// <param name="NormalNames">The normal image files, by their names as sent (below <see cref="JobBlobNames.UploadedNormalImagesPrefix"/>).</param>
public sealed record ReceivedUpload(
    string JobId,
    JobOptions? Options,
    string? BackboneJson,
    IReadOnlyList<string> ImageNames,
    IReadOnlyList<string> NormalNames);

/// <summary>
/// Receives <c>multipart/form-data</c> uploads as a stream: every file part goes straight to the blob store (never the
/// whole request in memory or on a temporary disk), with limits on the request, each file and the number of files. Form
/// fields (<c>jobId</c>, <c>options</c>, <c>backbone</c>) are small and read whole; <c>jobId</c> must come before the files,
/// because it names where they are stored. File parts named <c>normal</c> are normal images; all others are images.
/// </summary>
public sealed class UploadReceiver(IBlobStore store, IOptions<JobApiOptions> options, BackboneCatalog backbones)
{
    /// <summary>The form name of the normal-image file parts.</summary>
    public const string NormalPartName = "normal";

    private const int MaxFieldBytes = 64 * 1024;

    /// <summary>
    /// Files up to this size are read whole and written to the store in the background, up to <see cref="ParallelWrites"/>
    /// at once, while the next parts arrive. The request's bytes come in order, but every write waits a round trip to
    /// the store; one at a time those waits made the upload of 500 small images latency-bound (docs/BENCHMARKS.md).
    /// Larger files stream through one at a time, never whole in memory.
    /// </summary>
    internal const int BufferedFileBytes = 4 << 20;

    private const int ParallelWrites = 8;
    private const int MaxBoundaryLength = 70;
    private readonly JobApiOptions _limits = options.Value;

    /// <summary>
    /// Reads the request's parts and stores its files. <paramref name="jobExists"/> is asked once the job id is known: when it
    /// says true, nothing is stored and the result carries no files (the caller answers with the existing job).
    /// </summary>
    /// <exception cref="ApiProblemException">
    /// 415 not multipart/form-data; 413 a limit exceeded (the message names the setting); 400 a malformed body, a bad file
    /// name or field. Files stored before the problem are deleted.
    /// </exception>
    public async Task<ReceivedUpload> ReceiveAsync(HttpRequest request, Func<string, Task<bool>> jobExists, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(jobExists);
        var boundary = Boundary(request);
        var bodySize = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodySize is { IsReadOnly: false })
        {
            bodySize.MaxRequestBodySize = _limits.MaxUploadBytes;
        }
        if (request.ContentLength > _limits.MaxUploadBytes)
        {
            throw TooLarge($"the upload has {request.ContentLength} bytes, more than the {_limits.MaxUploadBytes} this server accepts ({JobApiOptions.Section}:MaxUploadBytes); split the dataset or upload it to the blob store and submit its prefix.");
        }

        var upload = new UploadState();
        try
        {
            var reader = new MultipartReader(boundary, request.Body);
            MultipartSection? section;
            while ((section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false)) is not null)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFormDisposition() && !disposition.IsFileDisposition())
                {
                    throw ApiProblemException.BadRequest("a part of the multipart body has no 'Content-Disposition: form-data' header.", "Malformed upload");
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (disposition.IsFileDisposition())
                {
                    await ReceiveFileAsync(section, name, FileNameOf(disposition), upload, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await ReceiveFieldAsync(section, name, upload, jobExists, cancellationToken).ConfigureAwait(false);
                    if (upload.JobAlreadyExists)
                    {
                        await upload.Writes.FinishAsync(upload).ConfigureAwait(false);
                        return upload.ToResult();
                    }
                }
            }
            if (!ImageDatasetLayout.AnyImageFile(upload.ImageNames))
            {
                throw ApiProblemException.BadRequest(
                    $"the upload holds no image files (looked for {ImageDatasetLayout.ExtensionList}); send each image as a file part whose file name is its path in the dataset.", "No images");
            }
            await upload.Writes.FinishAsync(upload).ConfigureAwait(false);
            return upload.ToResult();
        }
        catch (Exception e) when (RequestFailure(e, upload) is { } failure && !cancellationToken.IsCancellationRequested)
        {
            await upload.Writes.SettleAsync().ConfigureAwait(false);
            await DeleteStoredAsync(upload).ConfigureAwait(false);
            if (failure is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                throw TooLarge($"the upload is larger than the {_limits.MaxUploadBytes} bytes this server accepts ({JobApiOptions.Section}:MaxUploadBytes).");
            }
            throw ApiProblemException.BadRequest($"the multipart body is malformed or ended early: {failure.Message}", "Malformed upload");
        }
        catch
        {
            await upload.Writes.SettleAsync().ConfigureAwait(false);
            await DeleteStoredAsync(upload).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Deletes what an upload stored (after a refusal of its job).</summary>
    public Task DeleteAsync(string jobId) => store.DeletePrefixAsync(JobBlobNames.UploadPrefix(jobId));


    private static string Boundary(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                $"POST /jobs/upload takes multipart/form-data (got '{request.ContentType ?? "none"}'); to submit a dataset already in the blob store, POST its prefix as JSON to /jobs.");
        }
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > MaxBoundaryLength)
        {
            throw ApiProblemException.BadRequest("the multipart/form-data content type has no boundary, or one longer than 70 characters.", "Malformed upload");
        }
        return boundary;
    }

    private static string FileNameOf(ContentDispositionHeaderValue disposition)
    {
        // filename* (RFC 5987) carries non-ASCII names exactly; FileNameStar is already decoded.
        var name = disposition.FileNameStar.HasValue && disposition.FileNameStar.Length > 0 ? disposition.FileNameStar : HeaderUtilities.RemoveQuotes(disposition.FileName);
        return name.Value ?? "";
    }

    private async Task ReceiveFileAsync(MultipartSection section, string partName, string fileName, UploadState upload, CancellationToken cancellationToken)
    {
        if (upload.JobId is null)
        {
            upload.JobId = JobRequests.JobIdOrNew(null);
            upload.JobIdFixedByFile = true;
        }
        var isNormal = string.Equals(partName, NormalPartName, StringComparison.Ordinal);
        var names = isNormal ? upload.NormalNames : upload.ImageNames;
        var leaf = fileName[(fileName.LastIndexOf('/') + 1)..];
        // Hidden files (.DS_Store) are system litter; every other file is stored, also one of a kind the decoder does not
        // read, so that the job lists it as left out with its reason instead of dropping it in silence.
        if (!ImageDatasetLayout.IsVisibleFileName(leaf))
        {
            await section.Body.DrainAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        var blob = (isNormal ? JobBlobNames.UploadedNormalImagesPrefix(upload.JobId) : JobBlobNames.UploadedImagesPrefix(upload.JobId)) + fileName;
        try
        {
            BlobName.Validate(blob, "filename");
        }
        catch (InvalidBlobNameException e)
        {
            throw ApiProblemException.BadRequest(
                $"file name '{fileName}' cannot be stored: {e.Message.Replace(blob, fileName, StringComparison.Ordinal)} Give each file its path in the dataset, '/'-separated, without '..'.", "Bad file name");
        }
        if (!upload.Stored.Add(blob))
        {
            throw ApiProblemException.BadRequest($"file '{fileName}' occurs twice in the upload; every file needs its own path.", "Duplicate file");
        }
        if (upload.Stored.Count > _limits.MaxUploadFiles)
        {
            throw TooLarge($"the upload has more than {_limits.MaxUploadFiles} files, the most one job may upload ({JobApiOptions.Section}:MaxUploadFiles).");
        }
        await using var body = new LengthLimitedStream(section.Body, _limits.MaxUploadFileBytes, fileName);
        var (head, complete) = await PrefixedStream.ReadHeadAsync(body, BufferedFileBytes, cancellationToken).ConfigureAwait(false);
        if (complete)
        {
            // The usual image: written in the background while the next parts arrive. Not cancelled with the request: a
            // write cancelled mid-flight may still land after the clean-up deleted its blob; at most 8 x 4 MiB finish instead.
            await upload.Writes.StartAsync(() => store.PutAsync(blob, head, overwrite: true, CancellationToken.None), upload).ConfigureAwait(false);
        }
        else
        {
            await upload.Writes.ObserveFinishedAsync(upload).ConfigureAwait(false);
            upload.WritingToStore = true;
            await store.PutAsync(blob, new PrefixedStream(head, body), overwrite: true, cancellationToken).ConfigureAwait(false);
            upload.WritingToStore = false;
        }
        names.Add(fileName);
    }

    private async Task ReceiveFieldAsync(MultipartSection section, string name, UploadState upload, Func<string, Task<bool>> jobExists, CancellationToken cancellationToken)
    {
        var value = await ReadFieldAsync(section, name, cancellationToken).ConfigureAwait(false);
        switch (name)
        {
            case "jobId":
                if (upload.JobIdFixedByFile)
                {
                    throw ApiProblemException.BadRequest("form field 'jobId' came after the first file; send it before the files (it names where they are stored).", "Malformed upload");
                }
                JobRequests.CheckJobId(value);
                upload.JobId = value;
                upload.JobAlreadyExists = await jobExists(value).ConfigureAwait(false);
                break;
            case "options":
                upload.Options = JobRequests.ParseOptions(value, _limits, "form field 'options'");
                break;
            case "backbone":
                upload.BackboneJson = backbones.DescriptionJsonFor(value);
                break;
            default:
                throw ApiProblemException.BadRequest($"unknown form field '{name}'; the upload takes the fields jobId, options and backbone, and image files.", "Malformed upload");
        }
    }

    private static async Task<string> ReadFieldAsync(MultipartSection section, string name, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await section.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxFieldBytes)
            {
                throw TooLarge($"form field '{name}' is longer than {MaxFieldBytes} bytes.");
            }
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private async Task DeleteStoredAsync(UploadState upload)
    {
        foreach (var blob in upload.Stored)
        {
            try
            {
                await store.DeleteAsync(blob).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a leftover upload blob costs space, not correctness (a retry overwrites it).
            }
        }
    }

    /// <summary>
    /// The failure of reading the request itself, or null for any other: the multipart parser and Kestrel report malformed or
    /// truncated bodies as <see cref="IOException"/> or <see cref="InvalidDataException"/>, which must not be confused with a
    /// failure of the store (also an IOException) while a file part streams into it.
    /// </summary>
    private static Exception? RequestFailure(Exception e, UploadState upload)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is RequestBodyException)
            {
                return current.InnerException;
            }
        }
        return e is IOException or InvalidDataException && !upload.WritingToStore ? e : null;
    }

    private static ApiProblemException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "Upload too large", detail);

    private sealed class UploadState
    {
        public string? JobId { get; set; }

        public bool JobIdFixedByFile { get; set; }

        public bool JobAlreadyExists { get; set; }

        public bool WritingToStore { get; set; }

        public JobOptions? Options { get; set; }

        public string? BackboneJson { get; set; }

        public List<string> ImageNames { get; } = [];

        public List<string> NormalNames { get; } = [];

        public HashSet<string> Stored { get; } = new(StringComparer.Ordinal);

        public BackgroundWrites Writes { get; } = new();

        public ReceivedUpload ToResult() => new(JobId!, Options, BackboneJson, ImageNames, NormalNames);
    }

    /// <summary>
    /// The store writes of buffered files still running. A write's failure comes out of the next
    /// <see cref="StartAsync"/> or of <see cref="FinishAsync"/>, marked as the store's (<see cref="UploadState.WritingToStore"/>).
    /// </summary>
    private sealed class BackgroundWrites
    {
        private readonly List<Task> _running = [];

        /// <summary>
        /// Starts a write, first waiting for one to end while <see cref="ParallelWrites"/> are running. A write that has
        /// failed already fails the upload here, before more of the request is read.
        /// </summary>
        public async Task StartAsync(Func<Task> write, UploadState upload)
        {
            await ObserveFinishedAsync(upload).ConfigureAwait(false);
            while (_running.Count >= ParallelWrites)
            {
                var done = await Task.WhenAny(_running).ConfigureAwait(false);
                _running.Remove(done);
                await ObserveAsync(done, upload).ConfigureAwait(false);
            }
            _running.Add(write());
        }

        /// <summary>Takes the writes that have ended out of the running ones; the first failure among them is thrown.</summary>
        public async Task ObserveFinishedAsync(UploadState upload)
        {
            foreach (var done in _running.Where(write => write.IsCompleted).ToList())
            {
                _running.Remove(done);
                await ObserveAsync(done, upload).ConfigureAwait(false);
            }
        }

        /// <summary>Waits for every write; the first failure is thrown.</summary>
        public async Task FinishAsync(UploadState upload)
        {
            while (_running.Count > 0)
            {
                var done = _running[0];
                _running.RemoveAt(0);
                await ObserveAsync(done, upload).ConfigureAwait(false);
            }
        }

        /// <summary>Waits for every write, whatever its outcome: before an upload's blobs are deleted, none may still land.</summary>
        public async Task SettleAsync()
        {
            try
            {
                await Task.WhenAll(_running).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The upload has already failed; what these writes left is deleted next.
            }
            _running.Clear();
        }

        private static async Task ObserveAsync(Task write, UploadState upload)
        {
            upload.WritingToStore = true;
            await write.ConfigureAwait(false);
            upload.WritingToStore = false;
        }
    }

    /// <summary>Marks a failure to read the request body (as opposed to the store's).</summary>
    private sealed class RequestBodyException(Exception inner) : IOException(inner.Message, inner);

    /// <summary>
    /// Passes a file part's bytes through, refusing (413) once they exceed the per-file limit; read failures come out as
    /// <see cref="RequestBodyException"/>, so that they are told apart from the store's own.
    /// </summary>
    private sealed class LengthLimitedStream(Stream inner, long limit, string fileName) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return Count(inner.Read(buffer, offset, count));
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new RequestBodyException(e);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new RequestBodyException(e);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            if (_read > limit)
            {
                throw TooLarge($"file '{fileName}' is larger than {limit} bytes, the most one uploaded file may have ({JobApiOptions.Section}:MaxUploadFileBytes).");
            }
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
