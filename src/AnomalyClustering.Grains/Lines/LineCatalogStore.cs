using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AnomalyClustering.Core.Lines;
using AnomalyClustering.Storage;

namespace AnomalyClustering.Grains.Lines;

/// <summary>
/// Lines in the blob store, per tenant: <c>lines/{tenant or _}/{name}/v{N}.json</c>, one immutable blob per catalog version
/// (<see cref="LineCatalogJson"/>; a version is created, never overwritten, so a decision made with version 3 can always be
/// explained with version 3), beside the line's posted images, outcomes and decision log. A line belongs to its
/// tenant's folder: another tenant's caller never reaches it, and gets the 404 of a line that does not exist.
/// </summary>
public sealed partial class LineCatalogStore(IBlobStore store)
{
    private const int CreateAttempts = 5;

    /// <summary>The blob prefix of line <paramref name="name"/> of <paramref name="tenant"/>.</summary>
    /// <exception cref="InvalidLineNameException">The name is not allowed.</exception>
    public static string PrefixOf(string? tenant, string name)
    {
        CheckName(name);
        return $"lines/{TenantFolder(tenant)}/{name}/";
    }

    /// <summary>Throws <see cref="InvalidLineNameException"/> unless <paramref name="name"/> is 1-64 letters, digits, '.', '_' or '-' (not starting with '.').</summary>
    public static void CheckName(string? name)
    {
        if (name is null || !LineName().IsMatch(name))
        {
            throw new InvalidLineNameException(
                $"line name '{name}' is not valid; use 1-64 letters, digits, '.', '_' or '-', not starting with '.'.");
        }
    }

    /// <summary>
    /// The folder of a tenant: "_" for none; the tenant id itself when it is a plain one (letters, digits, '.', '-', as
    /// Entra ID's GUIDs are); otherwise '~' and a hash of it, so that no tenant claim can climb out of its folder or name another's.
    /// </summary>
    public static string TenantFolder(string? tenant) => tenant switch
    {
        null => "_",
        _ when TenantName().IsMatch(tenant) => tenant,
        _ => "~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tenant)))[..32],
    };

    /// <summary>The versions stored under <paramref name="prefix"/>, ascending; empty when the line does not exist.</summary>
    public async Task<IReadOnlyList<int>> VersionsAsync(string prefix, CancellationToken cancellationToken)
    {
        var versions = new List<int>();
        await foreach (var entry in store.ListAsync(prefix + "v", cancellationToken).ConfigureAwait(false))
        {
            if (VersionOf(prefix, entry.Name) is { } version)
            {
                versions.Add(version);
            }
        }
        versions.Sort();
        return versions;
    }

    /// <summary>The catalog version blob <paramref name="name"/> holds under <paramref name="prefix"/> (<see cref="CatalogBlob"/>); null for any other blob.</summary>
    public static int? VersionOf(string prefix, string name)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(name);
        if (!name.StartsWith(prefix + "v", StringComparison.Ordinal))
        {
            return null;
        }
        var file = name[prefix.Length..];
        return file.Length > 6 && file.EndsWith(".json", StringComparison.Ordinal)
            && int.TryParse(file[1..^5], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            && file[1..^5] == version.ToString(CultureInfo.InvariantCulture) && version > 0
            ? version
            : null;
    }

    /// <summary>
    /// Stores the catalog <paramref name="make"/> makes for the next version (given to it) and returns it; when another
    /// request stored that version meanwhile, makes it again for the version after.
    /// </summary>
    public async Task<LineCatalog> AddAsync(string prefix, Func<int, LineCatalog> make, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(make);
        for (var attempt = 1; ; attempt++)
        {
            var versions = await VersionsAsync(prefix, cancellationToken).ConfigureAwait(false);
            var catalog = make(versions.Count == 0 ? 1 : versions[^1] + 1);
            using var content = new MemoryStream();
            LineCatalogJson.Write(content, catalog);
            content.Position = 0;
            try
            {
                await store.PutAsync(CatalogBlob(prefix, catalog.Version), content, overwrite: false, cancellationToken).ConfigureAwait(false);
                return catalog;
            }
            catch (BlobAlreadyExistsException) when (attempt < CreateAttempts)
            {
                // Another request created this version first; take the next one.
            }
        }
    }

    /// <summary>The newest catalog under <paramref name="prefix"/> and every version, or null when the line does not exist.</summary>
    public async Task<(LineCatalog Catalog, IReadOnlyList<int> Versions)?> NewestAsync(string prefix, CancellationToken cancellationToken)
    {
        var versions = await VersionsAsync(prefix, cancellationToken).ConfigureAwait(false);
        if (versions.Count == 0)
        {
            return null;
        }
        try
        {
            await using var document = await store.OpenReadAsync(CatalogBlob(prefix, versions[^1]), cancellationToken).ConfigureAwait(false);
            return (LineCatalogJson.Read(document), versions);
        }
        catch (InvalidLineCatalogException e)
        {
            throw new InvalidOperationException($"the catalog blob '{CatalogBlob(prefix, versions[^1])}' is not a valid catalog: {e.Message}", e);
        }
    }

    /// <summary>Catalog version <paramref name="version"/> of the line at <paramref name="prefix"/>.</summary>
    /// <exception cref="BlobNotFoundException">The line has no such version.</exception>
    /// <exception cref="InvalidLineCatalogException">The blob is not a valid catalog.</exception>
    public async Task<LineCatalog> ReadAsync(string prefix, int version, CancellationToken cancellationToken)
    {
        await using var document = await store.OpenReadAsync(CatalogBlob(prefix, version), cancellationToken).ConfigureAwait(false);
        return LineCatalogJson.Read(document);
    }

    /// <summary>The blob of version <paramref name="version"/>.</summary>
    public static string CatalogBlob(string prefix, int version) => prefix + "v" + version.ToString(CultureInfo.InvariantCulture) + ".json";

    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex LineName();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}\z")]
    private static partial Regex TenantName();
}

/// <summary>A line name that is not allowed (the API answers 400, the CLI its input error).</summary>
public sealed class InvalidLineNameException(string message) : ArgumentException(message);
