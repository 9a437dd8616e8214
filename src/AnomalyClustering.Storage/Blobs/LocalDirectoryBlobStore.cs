using System.Runtime.CompilerServices;

namespace AnomalyClustering.Storage;

/// <summary>
/// An <see cref="IBlobStore"/> in a local folder, for embedded mode: blob <c>a/b.bin</c> is the file
/// <c>ROOT/blobs/a/b.bin</c>. Writes go to <c>ROOT/staging</c> first and are renamed into place, so they are
/// atomic and a crash leaves no half-written blob. Names are validated and every resolved path is checked to
/// stay under <c>ROOT/blobs</c>, so no name reaches outside the folder. A name cannot be both a blob and a
/// folder of blobs here (<c>a</c> and <c>a/b</c>), unlike Azure: such a write fails with a <see cref="BlobStoreException"/>.
/// </summary>
public sealed class LocalDirectoryBlobStore : IBlobStore
{
    private const int CopyBufferSize = 81920;

    private const int SeekableBufferSize = 4096;

    /// <summary>Staging files older than this are leftovers of a crashed writer, removed when a store opens the folder.</summary>
    public static readonly TimeSpan AbandonedStagingAge = TimeSpan.FromHours(24);

    private readonly string blobsRoot;
    private readonly string stagingRoot;

    /// <summary>
    /// The folder of the blobs of a store in <paramref name="rootFolder"/>: blob <c>a/b/c</c> is its file <c>a/b/c</c> (the
    /// CLI keeps its lines there, where the embedded silo reads them as blobs).
    /// </summary>
    public static string BlobsFolderOf(string rootFolder) => Path.Combine(Path.GetFullPath(rootFolder), "blobs");

    /// <summary>A store in <paramref name="rootFolder"/> (created when missing).</summary>
    public LocalDirectoryBlobStore(string rootFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootFolder);
        RootFolder = Path.GetFullPath(rootFolder);
        blobsRoot = BlobsFolderOf(RootFolder) + Path.DirectorySeparatorChar;
        stagingRoot = Path.Combine(RootFolder, "staging");
        // A file where the store's folder (or one above it) should be: say so, not the system's "Could not find a part of the path".
        for (var folder = RootFolder; folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder))
            {
                throw new BlobStoreException(folder == RootFolder
                    ? $"the store folder '{RootFolder}' is a file; give a folder for the store."
                    : $"the store folder '{RootFolder}' cannot be created: '{folder}' is a file.", blobName: null);
            }
        }
        Directory.CreateDirectory(blobsRoot);
        Directory.CreateDirectory(stagingRoot);
        RemoveAbandonedStagingFiles();
    }

    /// <summary>The store's folder (absolute).</summary>
    public string RootFolder { get; }

    private string Description => $"the local blob store at '{RootFolder}'";

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, bool overwrite = true, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        ArgumentNullException.ThrowIfNull(content);
        if (!overwrite && File.Exists(path))
        {
            throw new BlobAlreadyExistsException(name, Description);
        }
        var stagingPath = Path.Combine(stagingRoot, Guid.NewGuid().ToString("N"));
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
            };
            await using (var staging = new FileStream(stagingPath, options))
            {
                await content.CopyToAsync(staging, CopyBufferSize, cancellationToken).ConfigureAwait(false);
                await staging.FlushAsync(cancellationToken).ConfigureAwait(false);
                // Durable before it becomes visible: a rename of unflushed data can surface as an empty file after a crash.
                staging.Flush(flushToDisk: true);
            }
            cancellationToken.ThrowIfCancellationRequested();
            MoveIntoPlace(name, stagingPath, path, overwrite);
        }
        finally
        {
            File.Delete(stagingPath);
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string name, CancellationToken cancellationToken = default) =>
        OpenFileAsync(name, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan, cancellationToken);

    /// <inheritdoc />
    /// <remarks>The file itself, with a small buffer: a seek reads only what the caller reads next.</remarks>
    public Task<Stream> OpenSeekableReadAsync(string name, CancellationToken cancellationToken = default) =>
        OpenFileAsync(name, SeekableBufferSize, FileOptions.Asynchronous | FileOptions.RandomAccess, cancellationToken);

    private Task<Stream> OpenFileAsync(string name, int bufferSize, FileOptions fileOptions, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        cancellationToken.ThrowIfCancellationRequested();
        if (Directory.Exists(path))
        {
            throw new BlobNotFoundException(name, Description);
        }
        try
        {
            // FileShare.Delete: a blob being read can still be replaced or deleted, as in Azure.
            Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize, fileOptions);
            return Task.FromResult(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobNotFoundException(name, Description, e);
        }
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(File.Exists(path));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BlobEntry> ListAsync(string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobName.ValidatePrefix(prefix);
        // Only the folder the prefix's complete segments name can hold matches; walk it alone.
        var lastSlash = prefix.LastIndexOf('/');
        var folderName = lastSlash < 0 ? "" : prefix[..lastSlash];
        var folder = folderName.Length == 0 ? blobsRoot : EnsureUnderRoot(Path.Combine(blobsRoot, folderName), prefix);
        if (!Directory.Exists(folder))
        {
            yield break;
        }
        foreach (var entry in Walk(new DirectoryInfo(folder), folderName.Length == 0 ? "" : folderName + "/", prefix, cancellationToken))
        {
            yield return entry;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        cancellationToken.ThrowIfCancellationRequested();
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult(false);
        }
        RemoveEmptyFolders(Path.GetDirectoryName(path)!);
        return Task.FromResult(true);
    }

    /// <summary>
    /// Depth-first walk in ordinal name order: a folder sorts as its name plus '/', which is exactly where its
    /// blobs fall among its siblings in the ordinal order of full names. Cost: O(entries log entries) per folder.
    /// </summary>
    private static IEnumerable<BlobEntry> Walk(DirectoryInfo folder, string namePrefix, string prefix, CancellationToken cancellationToken)
    {
        var children = new List<(string SortKey, FileSystemInfo Info)>();
        try
        {
            foreach (var info in folder.EnumerateFileSystemInfos())
            {
                var isFolder = info is DirectoryInfo;
                children.Add((namePrefix + info.Name + (isFolder ? "/" : ""), info));
            }
        }
        catch (DirectoryNotFoundException)
        {
            yield break; // its last blob was deleted while the listing ran
        }
        children.Sort((a, b) => string.CompareOrdinal(a.SortKey, b.SortKey));
        foreach (var (sortKey, info) in children)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (info is DirectoryInfo subfolder)
            {
                // A folder can hold matches only when its name and the prefix agree as far as both go.
                var common = Math.Min(sortKey.Length, prefix.Length);
                if (string.CompareOrdinal(sortKey, 0, prefix, 0, common) == 0)
                {
                    foreach (var entry in Walk(subfolder, sortKey, prefix, cancellationToken))
                    {
                        yield return entry;
                    }
                }
            }
            else if (sortKey.StartsWith(prefix, StringComparison.Ordinal) && info is FileInfo file)
            {
                file.Refresh();
                if (file.Exists)
                {
                    yield return new BlobEntry(sortKey, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));
                }
            }
        }
    }

    private void MoveIntoPlace(string name, string stagingPath, string path, bool overwrite)
    {
        // A concurrent delete may remove the (empty) parent folder between creating it and the rename: retry.
        for (var attempt = 0; ; attempt++)
        {
            var parent = Path.GetDirectoryName(path)!;
            try
            {
                Directory.CreateDirectory(parent);
                // Without overwrite, .NET on Unix moves with link + unlink where the file system has hard links:
                // atomic, and it never replaces a blob another writer created meanwhile.
                File.Move(stagingPath, path, overwrite);
                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
            }
            catch (IOException e) when (!overwrite && File.Exists(path))
            {
                throw new BlobAlreadyExistsException(name, Description, e);
            }
            catch (IOException e) when (Directory.Exists(path) || BlobOnFolderPath(parent) is not null)
            {
                var clash = Directory.Exists(path) ? $"'{name}' is already a folder of blobs" : $"blob '{BlobOnFolderPath(parent)}' is a file where a folder is needed";
                throw new BlobStoreException($"Cannot write blob '{name}' in {Description}: {clash}. A local store cannot hold both 'a' and 'a/b'.", name, e);
            }
        }
    }

    private void RemoveAbandonedStagingFiles()
    {
        // A live writer's staging file is seconds old; only a crash leaves one for a day.
        var cutoff = DateTime.UtcNow - AbandonedStagingAge;
        foreach (var file in new DirectoryInfo(stagingRoot).EnumerateFiles())
        {
            try
            {
                if (file.LastWriteTimeUtc < cutoff)
                {
                    file.Delete();
                }
            }
            catch (IOException)
            {
                // Another process tidied it first.
            }
        }
    }

    private string? BlobOnFolderPath(string folder)
    {
        for (var current = folder; current.Length > blobsRoot.Length; current = Path.GetDirectoryName(current)!)
        {
            if (File.Exists(current))
            {
                return Path.GetRelativePath(blobsRoot, current).Replace(Path.DirectorySeparatorChar, '/');
            }
        }
        return null;
    }

    private void RemoveEmptyFolders(string folder)
    {
        while (folder.Length > blobsRoot.Length && folder.StartsWith(blobsRoot, StringComparison.Ordinal))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    return;
                }
                Directory.Delete(folder);
            }
            catch (IOException)
            {
                return; // filled again by a concurrent write, or already gone: either way nothing to tidy
            }
            folder = Path.GetDirectoryName(folder)!;
        }
    }

    private string PathOf(string name)
    {
        BlobName.Validate(name);
        return EnsureUnderRoot(Path.Combine(blobsRoot, name.Replace('/', Path.DirectorySeparatorChar)), name);
    }

    private string EnsureUnderRoot(string candidate, string name)
    {
        // Defence in depth behind the name rules: whatever the name, the resolved path stays under blobs/.
        var full = Path.GetFullPath(candidate);
        if (!full.StartsWith(blobsRoot, StringComparison.Ordinal) || full.Length == blobsRoot.Length)
        {
            throw new InvalidBlobNameException(name, "it resolves outside the store's folder");
        }
        return full;
    }
}
