using System.Globalization;
using AnomalyClustering.Cli.Datasets;

namespace AnomalyClustering.Cli.Vectors;

/// <summary>
/// Ground-truth labels matched to the rows of an <see cref="EmbeddingTable"/>, with the rows of the
/// <c>combined</c> class removed (METHOD section 6).
/// </summary>
/// <param name="Rows">The kept rows of the embedding table, in table order.</param>
/// <param name="Labels">The label of each kept row.</param>
/// <param name="CombinedDropped">How many rows were dropped because their label is <c>combined</c>.</param>
internal sealed record ImageLabels(int[] Rows, string[] Labels, int CombinedDropped)
{
    private static readonly string[] LabelColumnNames = ["label", "class", "defect", "defect_type", "type", "category"];

    /// <summary>
    /// Reads a labels CSV: two columns (image id or 0-based row index, label) with an optional header,
    /// or one column of labels in row order. Every row of the table needs exactly one label.
    /// </summary>
    /// <exception cref="CliInputException">Missing file, unknown ids, duplicates, or rows without a label.</exception>
    public static ImageLabels Read(string path, EmbeddingTable table)
    {
        if (!File.Exists(path))
        {
            throw new CliInputException($"labels file '{path}' does not exist.");
        }
        var rows = CsvText.ReadRows(path);
        if (rows.Count == 0)
        {
            throw new CliInputException($"labels file '{path}' is empty.");
        }
        var byRow = rows[0].Length == 1 ? LabelsInRowOrder(path, rows, table) : LabelsByKey(path, rows, table);

        var kept = new List<int>(table.Count);
        var labels = new List<string>(table.Count);
        var combined = 0;
        for (var row = 0; row < table.Count; row++)
        {
            if (string.Equals(byRow[row], ImageDatasetLayout.CombinedClass, StringComparison.OrdinalIgnoreCase))
            {
                combined++;
                continue;
            }
            kept.Add(row);
            labels.Add(byRow[row]);
        }
        if (kept.Count == 0)
        {
            throw new CliInputException($"every image in '{path}' is labelled '{ImageDatasetLayout.CombinedClass}'; nothing is left to cluster.");
        }
        return new ImageLabels(kept.ToArray(), labels.ToArray(), combined);
    }

    private static string[] LabelsInRowOrder(string path, List<string[]> rows, EmbeddingTable table)
    {
        var data = LabelColumnNames.Contains(rows[0][0].Trim(), StringComparer.OrdinalIgnoreCase) ? rows.Skip(1).ToList() : rows;
        if (data.Count != table.Count)
        {
            throw new CliInputException(
                $"labels file '{path}' has {data.Count} labels in one column but there are {table.Count} embeddings; give one label per row, or two columns (image id, label).");
        }
        return data.Select(row => Checked(path, row[0].Trim())).ToArray();
    }

    private static string[] LabelsByKey(string path, List<string[]> rows, EmbeddingTable table)
    {
        var rowOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < table.Count; i++)
        {
            rowOfId[table.Ids[i]] = i;
        }
        var start = TryRow(rows[0][0], table, rowOfId, out _) ? 0 : 1;
        var labelColumn = start == 1 ? Math.Max(1, Array.FindIndex(rows[0], name => LabelColumnNames.Contains(name.Trim(), StringComparer.OrdinalIgnoreCase))) : 1;

        var labels = new string?[table.Count];
        for (var r = start; r < rows.Count; r++)
        {
            var line = r + 1;
            var row = rows[r];
            if (row.Length <= labelColumn)
            {
                throw new CliInputException($"labels file '{path}' line {line} has {row.Length} field(s); it needs an image id and a label.");
            }
            var key = row[0].Trim();
            if (!TryRow(key, table, rowOfId, out var index))
            {
                throw new CliInputException(table.HasIdColumn
                    ? $"labels file '{path}' line {line}: image id '{key}' is not in the embeddings file."
                    : $"labels file '{path}' line {line}: '{key}' is not a row index 0..{table.Count - 1} of the embeddings.");
            }
            if (labels[index] is not null)
            {
                throw new CliInputException($"labels file '{path}' line {line}: image '{key}' is labelled twice.");
            }
            labels[index] = Checked(path, row[labelColumn].Trim());
        }
        var missing = Enumerable.Range(0, table.Count).Where(i => labels[i] is null).ToList();
        if (missing.Count > 0)
        {
            throw new CliInputException(
                $"labels file '{path}' gives no label for {missing.Count} of {table.Count} images (first: '{table.Ids[missing[0]]}'); label every image.");
        }
        return labels!;
    }

    private static bool TryRow(string key, EmbeddingTable table, Dictionary<string, int> rowOfId, out int row)
    {
        key = key.Trim();
        if (table.HasIdColumn)
        {
            return rowOfId.TryGetValue(key, out row);
        }
        return int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out row) && row < table.Count;
    }

    private static string Checked(string path, string label) =>
        label.Length > 0 ? label : throw new CliInputException($"labels file '{path}' has an empty label; every image needs a class name.");
}
