using AnomalyClustering.Core.Lines;
using AnomalyClustering.Grains.Lines;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Cli.Lines;

/// <summary>
/// The lines of a local store folder, as the CLI sees them: the server's <see cref="LineCatalogStore"/> over the embedded
/// silo's blob store (<c>&lt;store&gt;/blobs/lines/_/&lt;name&gt;/v1.json, v2.json, ...</c>, the layout of lines of no
/// tenant), so that the embedded silo (<c>line feed</c>) finds them and logs decisions beside them, with the CLI's
/// one-line errors. A new version is a new blob, never an edit, so that a decision made with version 3 can always be
/// explained with version 3.
/// </summary>
internal sealed class LocalLineStore(string storeFolder)
{
    private readonly LocalDirectoryBlobStore blobs = new(storeFolder);
    private LineCatalogStore? catalogs;

    private LineCatalogStore Catalogs => catalogs ??= new LineCatalogStore(blobs);

    /// <summary>The folder that holds the lines.</summary>
    public string Root { get; } = Path.Combine(LocalDirectoryBlobStore.BlobsFolderOf(storeFolder), "lines", "_");

    /// <summary>The blob prefix of line <paramref name="name"/> (no tenant).</summary>
    public static string PrefixOf(string name) => LineCatalogStore.PrefixOf(null, name);

    /// <summary>Throws a one-line error unless <paramref name="name"/> is a valid line name.</summary>
    /// <exception cref="CliInputException">The name is not valid.</exception>
    public static void CheckName(string name)
    {
        try
        {
            LineCatalogStore.CheckName(name);
        }
        catch (InvalidLineNameException e)
        {
            throw new CliInputException(e.Message, e);
        }
    }

    /// <summary>The line's catalog versions, ascending; empty when it does not exist.</summary>
    public IReadOnlyList<int> Versions(string name) => Wait(Catalogs.VersionsAsync(PrefixOfChecked(name), CancellationToken.None));

    /// <summary>The version the next catalog of the line gets.</summary>
    public int NextVersion(string name) => Versions(name) is { Count: > 0 } versions ? versions[^1] + 1 : 1;

    /// <summary>Stores <paramref name="catalog"/> as the line's next version and returns its file.</summary>
    /// <exception cref="CliInputException">The catalog's version is not the next one (another run created it meanwhile).</exception>
    public string Add(LineCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var prefix = PrefixOfChecked(catalog.Line);
        var stored = Wait(Catalogs.AddAsync(prefix, version => version == catalog.Version
            ? catalog
            : throw new CliInputException($"line '{catalog.Line}' is at version {version - 1}; a new catalog must be version {version}, not {catalog.Version}. Run the command again."),
            CancellationToken.None));
        return Path.Combine(Root, catalog.Line, $"v{stored.Version}.json");
    }

    /// <summary>Catalog <paramref name="version"/> of the line, or its newest.</summary>
    /// <exception cref="CliInputException">The line or the version does not exist, or the file is not a catalog.</exception>
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
        try
        {
            return Wait(Catalogs.ReadAsync(PrefixOf(name), wanted, CancellationToken.None));
        }
        catch (InvalidLineCatalogException e)
        {
            throw new CliInputException($"{Path.Combine(Root, name, $"v{wanted}.json")}: {e.Message}", e);
        }
    }

    /// <summary>The novel pool of line <paramref name="name"/> (which must exist), over the same store.</summary>
    /// <exception cref="CliInputException">The line does not exist.</exception>
    public LineNovelPool Pool(string name)
    {
        Read(name);
        return new LineNovelPool(blobs, Catalogs, PrefixOf(name));
    }

    private static string PrefixOfChecked(string name)
    {
        CheckName(name);
        return PrefixOf(name);
    }

    // The line commands are synchronous; the store's calls on local files complete without a context to return to.
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();
}
