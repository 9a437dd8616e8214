namespace AnomalyClustering.Reports.Thumbnails;

/// <summary>
/// Thumbnails as files in a folder beside the report (the CLI's <c>&lt;out&gt;/thumbnails/</c>), linked relatively, so
/// a large report stays a small page that loads its images lazily, and a second report over the same images reuses them.
/// </summary>
public sealed class FolderThumbnailCache : IThumbnailCache
{
    /// <summary>The folder name the CLI uses beside report.html.</summary>
    public const string DefaultFolderName = "thumbnails";

    private readonly string _linkPrefix;

    /// <summary>A cache in <paramref name="folder"/> (created on the first write), linked from the page as <paramref name="linkPrefix"/> + key.</summary>
    public FolderThumbnailCache(string folder, string linkPrefix = DefaultFolderName + "/")
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = Path.GetFullPath(folder);
        _linkPrefix = linkPrefix;
    }

    /// <summary>The folder holding the files.</summary>
    public string Folder { get; }

    /// <inheritdoc />
    public async Task<byte[]?> TryGetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        try
        {
            return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false) : null;
        }
        catch (IOException)
        {
            // A half-written or locked file is a miss: the thumbnail is made again.
            return null;
        }
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, byte[] jpeg, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Folder);
        var path = PathOf(key);
        // Write then rename, so a reader never sees half a file.
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(temporary, jpeg, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <inheritdoc />
    public string? LinkFor(string key) => _linkPrefix + Uri.EscapeDataString(ThumbnailKeys.Check(key));

    private string PathOf(string key) => Path.Combine(Folder, ThumbnailKeys.Check(key));
}
