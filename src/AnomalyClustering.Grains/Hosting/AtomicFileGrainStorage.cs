using System.Security.Cryptography;
using System.Text;
using Orleans.Serialization;
using Orleans.Storage;

namespace AnomalyClustering.Grains.Hosting;

/// <summary>
/// Grain state in files of one folder, each replaced whole: a write goes to a temporary file beside it, is flushed to the
/// disk, and is then renamed over the old one (atomic on POSIX file systems and NTFS), so a process killed in the middle
/// of a write leaves the previous state, never a torn file. Orleans' own file storage (<c>AddFileGrainStorage</c>) was
/// used before: a CI run killed an embedded run (SIGKILL, as <c>InterruptedRunTests</c> do) during a coordinator
/// checkpoint and the resumed run failed with "the file storage record ... has an invalid format". The CLI's embedded
/// silo keeps its jobs' state here, and so does a one-silo server over a local store (<see cref="ClusterHostingOptions.JobStateFolder"/>).
/// </summary>
/// <remarks>
/// A file holds a 32-character ETag line, then the state in Orleans' binary serialization. ETags are checked as any grain
/// storage does (<see cref="InconsistentStateException"/>); one process writes a grain at a time (the CLI's job lock; a server's one silo),
/// and a grain one write at a time (the job grains' <c>CheckpointedState</c>), so each state file has one temporary file
/// name: what a killed write left there is overwritten by the next write, and removed when the state is cleared.
/// </remarks>
public sealed class AtomicFileGrainStorage(string folder, Serializer serializer) : IGrainStorage
{
    private const int ETagLength = 32;

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var (etag, payload) = await ReadAsync(PathOf(stateName, grainId), cancellationToken).ConfigureAwait(false);
        grainState.State = payload is null ? Activator.CreateInstance<T>() : serializer.Deserialize<T>(payload);
        grainState.ETag = etag;
        grainState.RecordExists = etag is not null;
    }

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var path = PathOf(stateName, grainId);
        await CheckETagAsync(path, grainState.ETag, cancellationToken).ConfigureAwait(false);
        var etag = Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(folder);
        await AtomicFile.ReplaceAsync(path, [Encoding.ASCII.GetBytes(etag + "\n"), serializer.SerializeToArray(grainState.State)], cancellationToken)
            .ConfigureAwait(false);
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var path = PathOf(stateName, grainId);
        await CheckETagAsync(path, grainState.ETag, cancellationToken).ConfigureAwait(false);
        File.Delete(path);
        File.Delete(AtomicFile.TemporaryOf(path));
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private async Task CheckETagAsync(string path, string? expected, CancellationToken cancellationToken)
    {
        var (stored, _) = await ReadAsync(path, cancellationToken, readPayload: false).ConfigureAwait(false);
        if (stored != expected)
        {
            throw new InconsistentStateException($"the state in {path} changed since it was read", stored, expected);
        }
    }

    private static async Task<(string? ETag, byte[]? Payload)> ReadAsync(string path, CancellationToken cancellationToken, bool readPayload = true)
    {
        byte[] bytes;
        try
        {
            bytes = readPayload ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false) : ReadHead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, null);
        }
        if (bytes.Length < ETagLength + 1 || bytes[ETagLength] != (byte)'\n')
        {
            throw new InvalidDataException($"{path} is not a grain state file of this storage (no ETag line).");
        }
        return (Encoding.ASCII.GetString(bytes, 0, ETagLength), readPayload ? bytes[(ETagLength + 1)..] : null);
    }

    private static byte[] ReadHead(string path)
    {
        using var file = File.OpenRead(path);
        var head = new byte[ETagLength + 1];
        return head[..file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
    }

    /// <summary>One file per state of a grain: a hash of both, so any grain id makes a valid file name.</summary>
    private string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stateName + "|" + grainId))) + ".grain");
}
