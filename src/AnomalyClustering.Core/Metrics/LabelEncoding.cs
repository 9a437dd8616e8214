using System.Globalization;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Metrics;

/// <summary>
/// A labeling turned into dense codes 0..K-1 in sorted label order (numpy.unique's order), the
/// form every metric works on. O(N log K) after sorting the K distinct labels.
/// </summary>
public sealed class LabelEncoding
{
    private readonly int[] codes;
    private readonly int[] values;
    private readonly string[] names;
    private readonly int[] sizes;

    private LabelEncoding(int[] codes, int[] values, string[] names)
    {
        this.codes = codes;
        this.values = values;
        this.names = names;
        sizes = new int[values.Length];
        foreach (var code in codes)
        {
            sizes[code]++;
        }
    }

    /// <summary>Encodes integer labels (any values, negative included); code k is the k-th smallest distinct label.</summary>
    /// <exception cref="InvalidClusteringInputException">The labeling is empty.</exception>
    public static LabelEncoding Of(ReadOnlySpan<int> labels, string what = "labels")
    {
        RequireNonEmpty(labels.Length, what);
        var sorted = labels.ToArray();
        Array.Sort(sorted);
        var distinct = DistinctOfSorted(sorted);
        var codes = new int[labels.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            codes[i] = Array.BinarySearch(distinct, labels[i]);
        }
        var names = Array.ConvertAll(distinct, v => v.ToString(CultureInfo.InvariantCulture));
        return new LabelEncoding(codes, distinct, names);
    }

    /// <summary>
    /// Encodes string labels (e.g. defect type names); code k is the k-th distinct name in Unicode
    /// code-point order, which is how numpy.unique sorts strings. <see cref="Values"/> are then the codes.
    /// </summary>
    /// <exception cref="InvalidClusteringInputException">The labeling is empty or holds a null name.</exception>
    public static LabelEncoding Of(IReadOnlyList<string> labels, string what = "labels")
    {
        ArgumentNullException.ThrowIfNull(labels);
        RequireNonEmpty(labels.Count, what);
        for (var i = 0; i < labels.Count; i++)
        {
            if (labels[i] is null)
            {
                throw new InvalidClusteringInputException($"{what} has no label at index {i}; give every item a label.", what);
            }
        }
        var distinct = labels.Distinct(StringComparer.Ordinal).ToArray();
        Array.Sort(distinct, CodePointComparer.Instance);
        var indexOf = new Dictionary<string, int>(distinct.Length, StringComparer.Ordinal);
        for (var k = 0; k < distinct.Length; k++)
        {
            indexOf[distinct[k]] = k;
        }
        var codes = new int[labels.Count];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = indexOf[labels[i]];
        }
        var values = new int[distinct.Length];
        for (var k = 0; k < values.Length; k++)
        {
            values[k] = k;
        }
        return new LabelEncoding(codes, values, distinct);
    }

    /// <summary>Number of items N.</summary>
    public int Count => codes.Length;

    /// <summary>Number of distinct labels K.</summary>
    public int LabelCount => values.Length;

    /// <summary>Code (0..K-1) of every item, in input order.</summary>
    public ReadOnlySpan<int> Codes => codes;

    /// <summary>The distinct integer labels in sorted order (for string input: the codes 0..K-1).</summary>
    public IReadOnlyList<int> Values => values;

    /// <summary>The distinct labels as text in code order (integers in invariant culture, names as given).</summary>
    public IReadOnlyList<string> Names => names;

    /// <summary>How many items carry each code.</summary>
    public ReadOnlySpan<int> Sizes => sizes;

    /// <summary>The code of an integer label, or -1 when no item carries it.</summary>
    public int CodeOf(int value)
    {
        var index = Array.BinarySearch(values, value);
        return index >= 0 ? index : -1;
    }

    private static void RequireNonEmpty(int count, string what)
    {
        if (count == 0)
        {
            throw new InvalidClusteringInputException($"{what} is empty; metrics need at least one labelled item.", what);
        }
    }

    private static int[] DistinctOfSorted(int[] sorted)
    {
        var count = 1;
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i] != sorted[i - 1])
            {
                sorted[count++] = sorted[i];
            }
        }
        return sorted[..count];
    }

    /// <summary>Orders strings by Unicode code points (UTF-32), as NumPy compares its str arrays.</summary>
    private sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            // Ordinal UTF-16 order differs from code-point order only when a surrogate meets U+E000..U+FFFF.
            var left = x.AsSpan().EnumerateRunes();
            var right = y.AsSpan().EnumerateRunes();
            while (true)
            {
                var hasLeft = left.MoveNext();
                var hasRight = right.MoveNext();
                if (!hasLeft || !hasRight)
                {
                    // Lone surrogates all read as U+FFFD; the ordinal order keeps distinct names apart.
                    return hasLeft != hasRight ? hasLeft.CompareTo(hasRight) : string.CompareOrdinal(x, y);
                }
                var order = left.Current.Value.CompareTo(right.Current.Value);
                if (order != 0)
                {
                    return order;
                }
            }
        }
    }
}
