using AnomalyClustering.Embedding.Datasets;

namespace AnomalyClustering.Cli.Lines;

/// <summary>A file of the fed folder: its path, its name relative to the folder (for people), and its bytes.</summary>
internal sealed record FeedFile(string Path, string Name, byte[] Bytes);

/// <summary>A file the feed did not send, and why.</summary>
internal sealed record LeftOutFile(string Name, string Reason, string Message);

/// <summary>
/// The files of a folder (and its visible sub-folders) that <c>line feed</c> sends, each once: image files by extension
/// (<see cref="ImageDatasetLayout.ImageExtensions"/>); any other file, or an empty or unreadable one, is left out with its
/// reason, never skipped in silence. Watching, a file is taken once it has not changed for <see cref="SettleTime"/>, so that
/// a camera's half-written file is not sent.
/// </summary>
internal sealed class LineFeedFolder(string root)
{
    /// <summary>How long a file must stay unchanged before a watching feed takes it.</summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(1);

    private readonly HashSet<string> taken = new(StringComparer.Ordinal);

    /// <summary>The files not taken before, in ordinal order of their names: those to send, and those left out.</summary>
    public (IReadOnlyList<FeedFile> Ready, IReadOnlyList<LeftOutFile> LeftOut) Next(bool watching)
    {
        var ready = new List<FeedFile>();
        var leftOut = new List<LeftOutFile>();
        var now = DateTime.UtcNow;
        foreach (var path in Files())
        {
            var name = System.IO.Path.GetRelativePath(root, path).Replace('\\', '/');
            if (taken.Contains(name))
            {
                continue;
            }
            if (!ImageDatasetLayout.ImageExtensions.Contains(System.IO.Path.GetExtension(path).ToLowerInvariant()))
            {
                taken.Add(name);
                leftOut.Add(new LeftOutFile(name, "unsupported-file",
                    $"not an image file of a kind read here ({string.Join(", ", ImageDatasetLayout.ImageExtensions)})"));
                continue;
            }
            try
            {
                if (watching && now - File.GetLastWriteTimeUtc(path) < SettleTime)
                {
                    continue;
                }
                // Asked before reading: a named pipe would block the read until something writes to it.
                if (Datasets.ImageFileAccess.NotRegularProblem(path) is { } notRegular)
                {
                    taken.Add(name);
                    leftOut.Add(new LeftOutFile(name, "unreadable", notRegular));
                    continue;
                }
                var bytes = File.ReadAllBytes(path);
                taken.Add(name);
                if (bytes.Length == 0)
                {
                    leftOut.Add(new LeftOutFile(name, "empty", "the file is empty"));
                    continue;
                }
                ready.Add(new FeedFile(path, name, bytes));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                taken.Add(name);
                leftOut.Add(new LeftOutFile(name, "unreadable", $"cannot read the file: {e.Message}"));
            }
        }
        return (ready, leftOut);
    }

    private IEnumerable<string> Files()
    {
        var pending = new Stack<string>([root]);
        var files = new List<string>();
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            files.AddRange(Directory.EnumerateFiles(folder).Where(path => ImageDatasetLayout.IsVisibleFileName(System.IO.Path.GetFileName(path))));
            foreach (var sub in Directory.EnumerateDirectories(folder).Where(path => !System.IO.Path.GetFileName(path).StartsWith('.')))
            {
                pending.Push(sub);
            }
        }
        return files.Order(StringComparer.Ordinal);
    }
}
