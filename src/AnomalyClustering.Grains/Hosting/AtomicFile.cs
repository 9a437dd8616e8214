namespace AnomalyClustering.Grains.Hosting;

/// <summary>
/// A file replaced whole, crash-safe: the new content goes to a temporary file beside it (<see cref="TemporaryOf"/>), is
/// flushed to the disk, then renamed over the old one, so that a killed process leaves the old file or the new one, never
/// a torn one. A power cut may still undo the rename (the folder itself is not flushed: .NET has no public way to).
/// </summary>
internal static class AtomicFile
{
    /// <summary>The temporary file a replacement of <paramref name="path"/> is written to first.</summary>
    public static string TemporaryOf(string path) => path + ".tmp";

    /// <summary>Replaces <paramref name="path"/> by <paramref name="contents"/>, written one after the other.</summary>
    public static async Task ReplaceAsync(string path, IEnumerable<ReadOnlyMemory<byte>> contents, CancellationToken cancellationToken)
    {
        var temporary = TemporaryOf(path);
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16, useAsync: true))
        {
            foreach (var content in contents)
            {
                await file.WriteAsync(content, cancellationToken).ConfigureAwait(false);
            }
            // On the disk before the rename, so that a power cut cannot leave the new name on unwritten data.
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
