using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Grains.Workers;
using Microsoft.Extensions.Options;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Turns the backbone name of a request into the description a job carries: a name of the server's catalog
/// (<see cref="BackboneHostOptions.Catalog"/>, description files read here on the coordinator, model paths made absolute),
/// or <see cref="BackboneHostOptions.BuiltInName"/> for the built-in backbone.
/// </summary>
public sealed class BackboneCatalog(IOptions<BackboneHostOptions> options)
{
    /// <summary>
    /// The built-in backbone as the CLI describes it when no model is given: the whole image, stretched to the input (the
    /// CLI's <c>BackboneSelection.DefaultResizeMode</c>), so that the server and the CLI cluster a folder alike.
    /// </summary>
    public static BackboneDescription BuiltIn => BuiltInBackbone.WholeImageDescription;

    /// <summary>The names a request may use, ordinal order.</summary>
    public IReadOnlyList<string> Names =>
        options.Value.Catalog.Keys.Append(BackboneHostOptions.BuiltInName).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();

    /// <summary>The description JSON of backbone <paramref name="name"/> (null or empty: the built-in one).</summary>
    /// <exception cref="ApiProblemException">400 for a name the catalog lacks; 500 when a catalog entry cannot be read.</exception>
    public string DescriptionJsonFor(string? name)
    {
        name = string.IsNullOrWhiteSpace(name) ? BackboneHostOptions.BuiltInName : name.Trim();
        if (options.Value.Catalog.TryGetValue(name, out var path))
        {
            try
            {
                return BackboneDescription.Load(path).ToJson();
            }
            catch (BackboneConfigurationException e)
            {
                throw new ApiProblemException(StatusCodes.Status500InternalServerError, "Backbone catalog entry unreadable",
                    $"backbone '{name}' of this server's catalog cannot be read ({BackboneHostOptions.Section}:Catalog:{name} = '{path}'): {e.Message}");
            }
        }
        if (string.Equals(name, BackboneHostOptions.BuiltInName, StringComparison.OrdinalIgnoreCase))
        {
            return BuiltIn.ToJson();
        }
        throw ApiProblemException.BadRequest($"unknown backbone '{name}'; this server has: {string.Join(", ", Names)}.", "Unknown backbone");
    }
}
