namespace AnomalyClustering.Embedding.Onnx;

/// <summary>Picks the graph tensor names closest to a mistyped one, for error messages a person can act on.</summary>
internal static class TensorNameSuggestions
{
    /// <summary>
    /// Up to <paramref name="count"/> names: those containing the wanted name (or contained in it) first,
    /// then the smallest edit distance. O(n * |a| * |b|) for n candidates.
    /// </summary>
    public static IReadOnlyList<string> Closest(string wanted, IEnumerable<string> candidates, int count)
    {
        return candidates
            .Distinct(StringComparer.Ordinal)
            .Select(name => (name, contains: name.Contains(wanted, StringComparison.OrdinalIgnoreCase)
                                            || wanted.Contains(name, StringComparison.OrdinalIgnoreCase),
                             distance: EditDistance(wanted, name)))
            .OrderByDescending(c => c.contains)
            .ThenBy(c => c.distance)
            .ThenBy(c => c.name, StringComparer.Ordinal)
            .Take(count)
            .Select(c => c.name)
            .ToList();
    }

    /// <summary>A one-line list of names for a message, quoted and comma-separated, with how many were left out.</summary>
    public static string Format(IReadOnlyCollection<string> names, int total)
    {
        var listed = string.Join(", ", names.Select(n => $"'{n}'"));
        return total > names.Count ? $"{listed} (and {total - names.Count} more)" : listed;
    }

    /// <summary>Levenshtein distance, case-insensitive, two rows of memory.</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + substitution);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
