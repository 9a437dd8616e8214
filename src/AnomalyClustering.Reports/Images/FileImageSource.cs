namespace AnomalyClustering.Reports.Images;

/// <summary>Images as files: found by a path per image id (the CLI's dataset), or under a folder the ids are relative to (result.json's source).</summary>
public sealed class FileImageSource : IReportImageSource
{
    private readonly Func<string, string?> _pathOf;

    private FileImageSource(Func<string, string?> pathOf) => _pathOf = pathOf;

    /// <summary>Images whose ids are paths relative to <paramref name="root"/> (the CLI's ids); an absolute id is its own path.</summary>
    public static FileImageSource UnderFolder(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var full = Path.GetFullPath(root);
        return new FileImageSource(id => Path.IsPathRooted(id) ? id : Path.GetFullPath(Path.Combine(full, id)));
    }

    /// <summary>Images at the given paths, by id; an id not in the map has no image.</summary>
    public static FileImageSource FromPaths(IReadOnlyDictionary<string, string> pathsById)
    {
        ArgumentNullException.ThrowIfNull(pathsById);
        return new FileImageSource(id => pathsById.GetValueOrDefault(id));
    }

    /// <inheritdoc />
    public async Task<byte[]?> ReadAsync(string imageId, CancellationToken cancellationToken = default)
    {
        var path = _pathOf(imageId);
        if (path is null)
        {
            return null;
        }
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
