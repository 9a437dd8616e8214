using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Hosting;

/// <summary>
/// A local store folder that this process cannot use, with a one-line message that names the folder, says why and what to
/// do: a one-node server prints it and exits with code 1 (its Program.cs), rather than crashing with a stack trace.
/// </summary>
public abstract class StoreFolderException : InvalidOperationException
{
    /// <summary>Creates the error with its one-line <paramref name="message"/>.</summary>
    protected StoreFolderException(string message, Exception? cause = null)
        : base(message, cause)
    {
    }
}

/// <summary>
/// A local store folder (AnomalyClustering:Storage:LocalRoot) that cannot be used at all: a file where it or a folder above
/// it should be, a folder this user may not create or write, a read-only or full disk. The message names the folder and the
/// system's cause.
/// </summary>
public sealed class StoreFolderUnusableException : StoreFolderException
{
    /// <summary>Creates the failure to open the store in <paramref name="folder"/>.</summary>
    public StoreFolderUnusableException(string folder, Exception cause)
        : base(MessageOf(folder, cause), cause)
    {
        Folder = folder;
    }

    /// <summary>The store folder.</summary>
    public string Folder { get; }

    // The store's own errors (a file in the way) already name the folder and the fix; the system's name only a path.
    private static string MessageOf(string folder, Exception cause) => cause is BlobStoreException
        ? $"{cause.Message.TrimEnd('.')} ({SettingName})."
        : $"the store folder '{folder}' cannot be used ({cause.Message.TrimEnd('.')}); make sure this user may write it and that its disk is writable and not full, or give another folder ({SettingName}).";

    private const string SettingName = "AnomalyClustering:Storage:LocalRoot";
}
