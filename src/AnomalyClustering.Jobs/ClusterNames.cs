using System.Collections.ObjectModel;
using System.Globalization;
using System.Text.Json;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Jobs;

/// <summary>
/// Names people gave to clusters ("crack", "scratch"), by 0-based cluster index: stored with a job's result, shown and
/// edited in its report. As JSON (<c>names.json</c>, the <c>clusterNames</c> member of result.json) an object whose keys
/// are cluster indices: <c>{"0": "crack", "3": "scratch"}</c>. Immutable; <see cref="With"/> makes a changed copy.
/// </summary>
public sealed class ClusterNames
{
    /// <summary>The longest name accepted, in characters.</summary>
    public const int MaxNameLength = 80;

    private readonly SortedDictionary<int, string> _names;

    private ClusterNames(SortedDictionary<int, string> names)
    {
        _names = names;
        ByCluster = new ReadOnlyDictionary<int, string>(names);
    }

    /// <summary>No cluster named.</summary>
    public static ClusterNames Empty { get; } = new([]);

    /// <summary>The names by cluster index, in ascending index order.</summary>
    public IReadOnlyDictionary<int, string> ByCluster { get; }

    /// <summary>Number of named clusters.</summary>
    public int Count => _names.Count;

    /// <summary>The name of cluster <paramref name="cluster"/>, or null when it has none.</summary>
    public string? NameOf(int cluster) => _names.GetValueOrDefault(cluster);

    /// <summary>Names from (index, name) pairs; each name is trimmed and checked.</summary>
    /// <exception cref="InvalidClusteringInputException">A negative index, an index given twice, or an empty, too long or multi-line name.</exception>
    public static ClusterNames From(IEnumerable<KeyValuePair<int, string>> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var sorted = new SortedDictionary<int, string>();
        foreach (var (cluster, name) in names)
        {
            if (!sorted.TryAdd(CheckIndex(cluster), CheckName(cluster, name)))
            {
                throw new InvalidClusteringInputException($"cluster {cluster} is named twice; give each cluster one name.", nameof(names));
            }
        }
        return sorted.Count == 0 ? Empty : new ClusterNames(sorted);
    }

    /// <summary>A copy with cluster <paramref name="cluster"/> named <paramref name="name"/>; null or blank removes its name.</summary>
    /// <exception cref="InvalidClusteringInputException">A negative index, or a too long or multi-line name.</exception>
    public ClusterNames With(int cluster, string? name)
    {
        var copy = new SortedDictionary<int, string>(_names);
        if (string.IsNullOrWhiteSpace(name))
        {
            copy.Remove(CheckIndex(cluster));
        }
        else
        {
            copy[CheckIndex(cluster)] = CheckName(cluster, name);
        }
        return copy.Count == 0 ? Empty : new ClusterNames(copy);
    }

    /// <summary>Throws unless every named index is below <paramref name="clusterCount"/>.</summary>
    /// <exception cref="InvalidClusteringInputException">A name belongs to a cluster the result does not have.</exception>
    public void CheckAgainst(int clusterCount)
    {
        foreach (var cluster in _names.Keys)
        {
            if (cluster >= clusterCount)
            {
                throw new InvalidClusteringInputException(
                    $"a name is given for cluster {cluster}, but the result has {clusterCount} clusters (0 to {clusterCount - 1}).", "names");
            }
        }
    }

    /// <summary>Reads names written as a JSON object of index to name (names.json).</summary>
    /// <exception cref="InvalidClusteringInputException">Not such an object, a key that is not an index, or a bad name.</exception>
    public static ClusterNames Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            return FromJson(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new InvalidClusteringInputException($"cluster names are not valid JSON ({e.Message}); write an object like {{\"0\": \"crack\"}}.", "names");
        }
    }

    /// <summary>Reads names from a JSON object element of index to name (as in result.json's <c>clusterNames</c>).</summary>
    /// <exception cref="InvalidClusteringInputException">Not such an object, a key that is not an index, or a bad name.</exception>
    public static ClusterNames FromJson(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidClusteringInputException($"cluster names must be a JSON object like {{\"0\": \"crack\"}}, not {element.ValueKind}.", "names");
        }
        var pairs = new List<KeyValuePair<int, string>>();
        foreach (var property in element.EnumerateObject())
        {
            if (!int.TryParse(property.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var cluster))
            {
                throw new InvalidClusteringInputException($"cluster names are keyed by cluster index (0, 1, ...); '{property.Name}' is not one.", "names");
            }
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                throw new InvalidClusteringInputException($"the name of cluster {cluster} must be a string, not {property.Value.ValueKind}.", "names");
            }
            pairs.Add(KeyValuePair.Create(cluster, property.Value.GetString()!));
        }
        return From(pairs);
    }

    /// <summary>Writes the names as a JSON object of index to name, in index order.</summary>
    public void WriteTo(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        foreach (var (cluster, name) in _names)
        {
            json.WriteString(cluster.ToString(CultureInfo.InvariantCulture), name);
        }
        json.WriteEndObject();
    }

    /// <summary>The names as indented JSON text (the content of a names.json file).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            WriteTo(json);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static int CheckIndex(int cluster) =>
        cluster >= 0 ? cluster : throw new InvalidClusteringInputException($"cluster index {cluster} is negative; clusters are numbered from 0.", "names");

    private static string CheckName(int cluster, string? name)
    {
        var trimmed = name?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            throw new InvalidClusteringInputException($"the name of cluster {cluster} is empty; leave the cluster out to keep it unnamed.", "names");
        }
        if (trimmed.Length > MaxNameLength)
        {
            throw new InvalidClusteringInputException($"the name of cluster {cluster} has {trimmed.Length} characters; at most {MaxNameLength} are allowed.", "names");
        }
        if (trimmed.Any(char.IsControl))
        {
            throw new InvalidClusteringInputException($"the name of cluster {cluster} holds a line break or control character; use one line of text.", "names");
        }
        return trimmed;
    }
}
