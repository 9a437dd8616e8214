using System.Globalization;
using System.Text.RegularExpressions;
using AnomalyClustering.Core.Lines;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// Lines kept in a local folder, one sub-folder per line and one immutable file per catalog version:
/// <c>&lt;store&gt;/blobs/lines/_/&lt;name&gt;/v1.json, v2.json, ...</c> (<see cref="LineCatalogJson"/>): the blobs of the
/// embedded silo's store, laid out as a server's store keeps lines of no tenant, so that the embedded silo (<c>line feed</c>)
/// finds them and logs decisions beside them. A new
/// version is a new file, never an edit, so that a decision made with version 3 can always be explained with version 3.
/// </summary>
internal sealed partial class LocalLineStore(string storeFolder)
{
    /// <summary>The folder holding the lines.</summary>
    public string Root { get; } = Path.Combine(Storage.LocalDirectoryBlobStore.BlobsFolderOf(storeFolder), "lines", "_");

    /// <summary>The blob prefix of line <paramref name="name"/> in the store (<see cref="Grains.Lines.LineCatalogStore.PrefixOf"/> of no tenant).</summary>
    public static string PrefixOf(string name) => Grains.Lines.LineCatalogStore.PrefixOf(null, name);

    /// <summary>Throws <see cref="CliInputException"/> unless <paramref name="name"/> is 1-64 letters, digits, '.', '_' or '-' (not starting with '.').</summary>
    public static void CheckName(string name)
    {
        if (!LineName().IsMatch(name))
        {
            throw new CliInputException($"line name '{name}' is not valid; use 1-64 letters, digits, '.', '_' or '-', not starting with '.'.");
        }
    }

    /// <summary>The versions stored for <paramref name="name"/>, ascending; empty when the line does not exist.</summary>
    public IReadOnlyList<int> Versions(string name)
    {
        CheckName(name);
        var folder = Path.Combine(Root, name);
        if (!Directory.Exists(folder))
        {
            return [];
        }
        return Directory.EnumerateFiles(folder, "v*.json")
            .Select(path => Path.GetFileNameWithoutExtension(path)[1..])
            .Select(digits => int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                && digits == version.ToString(CultureInfo.InvariantCulture) ? version : 0)
            .Where(version => version > 0)
            .Order()
            .ToList();
    }

    /// <summary>Stores <paramref name="catalog"/> as the line's next version and returns its path; the file is created, never overwritten.</summary>
    /// <exception cref="CliInputException">The catalog's version is not the next one.</exception>
    public string Add(LineCatalog catalog)
    {
        var next = NextVersion(catalog.Line);
        if (catalog.Version != next)
        {
            throw new CliInputException($"line '{catalog.Line}' is at version {next - 1}; a new catalog must be version {next}, not {catalog.Version}.");
        }
        var folder = Path.Combine(Root, catalog.Line);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"v{catalog.Version}.json");
        try
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            LineCatalogJson.Write(stream, catalog);
        }
        catch (IOException e) when (File.Exists(path) && NextVersion(catalog.Line) > next)
        {
            // Another create stored this version meanwhile; its file stays as it is.
            throw new CliInputException($"line '{catalog.Line}' version {catalog.Version} was created by another run meanwhile; run the command again.", e);
        }
        return path;
    }

    /// <summary>The version a new catalog of <paramref name="name"/> gets: one more than the newest, 1 for a new line.</summary>
    public int NextVersion(string name) => Versions(name) is { Count: > 0 } versions ? versions[^1] + 1 : 1;

    /// <summary>Reads version <paramref name="version"/> of the line, or its newest when null.</summary>
    /// <exception cref="CliInputException">The line or version does not exist, or its file is not a valid catalog.</exception>
    public LineCatalog Read(string name, int? version = null)
    {
        var versions = Versions(name);
        if (versions.Count == 0)
        {
            throw new CliInputException($"line '{name}' does not exist in {Root}; create it with 'line create {name} --from-result DIR'.");
        }
        if (version is < 1)
        {
            throw new CliInputException($"--version must be 1 or more, not {version}; line '{name}' has {string.Join(", ", versions)}.");
        }
        var wanted = version ?? versions[^1];
        if (!versions.Contains(wanted))
        {
            throw new CliInputException($"line '{name}' has no version {wanted}; it has {string.Join(", ", versions)}.");
        }
        var path = Path.Combine(Root, name, $"v{wanted}.json");
        try
        {
            using var stream = File.OpenRead(path);
            return LineCatalogJson.Read(stream);
        }
        catch (InvalidLineCatalogException e)
        {
            throw new CliInputException($"{path}: {e.Message}", e);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex LineName();
}
