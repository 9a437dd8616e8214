using AnomalyClustering.Embedding.Datasets;

namespace AnomalyClustering.Cli.Lines;

/// <summary>A file of the fed folder: its path, its name relative to the folder (for people), and its bytes.</summary>
internal sealed record FeedFile(string Path, string Name, byte[] Bytes);

/// <summary>A file the feed did not send, and why.</summary>
internal sealed record LeftOutFile(string Name, string Reason, string Message);

/// <summary>
/// The files of a folder (and its visible sub-folders) that <c>line feed</c> sends: image files by extension
/// (<see cref="ImageDatasetLayout.ImageExtensions"/>); any other file, or an empty or unreadable one, is left out with its
/// reason, never skipped in silence. Watching, a file is taken once it has not changed for <see cref="SettleTime"/>, so that
/// a camera's half-written file is not sent, and taken again whenever its length or write time changes after that: an
/// empty placeholder filled later, a file whose writer paused past the settle time, a name a camera reuses for a new
/// picture. Sending a file again costs nothing twice: a line knows an image by the SHA-256 of its bytes, so the same
/// bytes get their earlier decision.
/// </summary>
internal sealed class LineFeedFolder(string root)
{
    /// <summary>How long a file must stay unchanged before a watching feed takes it.</summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(1);

    // What each taken file looked like when it was taken; null for a file that is never taken again (not an image by its
    // name, or not a regular file: its length and time say nothing of new content).
    private readonly Dictionary<string, FileStamp?> taken = new(StringComparer.Ordinal);

    /// <summary>The files not taken before, in ordinal order of their names: those to send, and those left out.</summary>
    public (IReadOnlyList<FeedFile> Ready, IReadOnlyList<LeftOutFile> LeftOut) Next(bool watching)
    {
        var ready = new List<FeedFile>();
        var leftOut = new List<LeftOutFile>();
        var now = DateTime.UtcNow;
        foreach (var file in Files())
        {
            var path = file.FullName;
            // The enumeration's own length and write time: no second stat of every file on every watch pass.
            var stampNow = FileStamp.Of(file);
            var name = System.IO.Path.GetRelativePath(root, path).Replace('\\', '/');
            if (taken.TryGetValue(name, out var stamp) && (stamp is null || !watching || stamp == stampNow))
            {
                continue;
            }
            if (!ImageDatasetLayout.ImageExtensions.Contains(System.IO.Path.GetExtension(path).ToLowerInvariant()))
            {
                taken[name] = null;
                leftOut.Add(new LeftOutFile(name, "unsupported-file",
                    $"not an image file of a kind read here ({string.Join(", ", ImageDatasetLayout.ImageExtensions)})"));
                continue;
            }
            try
            {
                if (watching && now - file.LastWriteTimeUtc < SettleTime)
                {
                    continue;
                }
                // Asked before reading: a named pipe would block the read until something writes to it.
                if (Datasets.ImageFileAccess.NotRegularProblem(path) is { } notRegular)
                {
                    taken[name] = null;
                    leftOut.Add(new LeftOutFile(name, "unreadable", notRegular));
                    continue;
                }
                // Stamped before the read (by the listing): a write that lands during it changes the stamp, so the next pass reads again.
                var bytes = File.ReadAllBytes(path);
                taken[name] = stampNow;
                if (bytes.Length == 0)
                {
                    leftOut.Add(new LeftOutFile(name, "empty", "the file is empty"));
                    continue;
                }
                ready.Add(new FeedFile(path, name, bytes));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                taken[name] = stampNow;
                leftOut.Add(new LeftOutFile(name, "unreadable", $"cannot read the file: {e.Message}"));
            }
        }
        return (ready, leftOut);
    }

    /// <summary>A file's length and last write time: when either changes, a watching feed takes the file again.</summary>
    private sealed record FileStamp(long Length, DateTime WrittenUtc)
    {
        /// <summary>The file's stamp as its listing gave it; a file that vanished or cannot be asked gets one that matches no real file.</summary>
        public static FileStamp Of(FileInfo info)
        {
            try
            {
                return new FileStamp(info.Length, info.LastWriteTimeUtc);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new FileStamp(-1, DateTime.MinValue);
            }
        }
    }

    // FileInfo from a listing carries the length and write time the listing read: asking them costs no further stat.
    private IEnumerable<FileInfo> Files()
    {
        var pending = new Stack<string>([root]);
        var files = new List<FileInfo>();
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            files.AddRange(new DirectoryInfo(folder).EnumerateFiles().Where(file => ImageDatasetLayout.IsVisibleFileName(file.Name)));
            foreach (var sub in Directory.EnumerateDirectories(folder).Where(path => !System.IO.Path.GetFileName(path).StartsWith('.')))
            {
                pending.Push(sub);
            }
        }
        return files.OrderBy(file => file.FullName, StringComparer.Ordinal);
    }
}
