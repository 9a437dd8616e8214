using System.Globalization;
using AnomalyClustering.Core.Interop;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Cli.Vectors;

/// <summary>
/// Image embeddings computed elsewhere: <see cref="Count"/> rows of <see cref="Dimension"/> floats
/// (row-major) and one id per row (the CSV id column, or the row index as text).
/// </summary>
internal sealed class EmbeddingTable
{
    /// <summary>Header names that mark the first CSV column as an image id rather than a feature.</summary>
    private static readonly string[] IdColumnNames = ["id", "image", "image_id", "name", "file", "filename", "path"];

    /// <summary>Holds rows that were already checked.</summary>
    public EmbeddingTable(float[] values, int count, int dimension, IReadOnlyList<string> ids, bool hasIdColumn)
    {
        Values = values;
        Count = count;
        Dimension = dimension;
        Ids = ids;
        HasIdColumn = hasIdColumn;
    }

    /// <summary>The embeddings, row-major: row i occupies [i*Dimension, (i+1)*Dimension).</summary>
    public float[] Values { get; }

    /// <summary>Number of rows (images) N.</summary>
    public int Count { get; }

    /// <summary>Embedding dimension D.</summary>
    public int Dimension { get; }

    /// <summary>One id per row: the CSV id column when present, otherwise the 0-based row index.</summary>
    public IReadOnlyList<string> Ids { get; }

    /// <summary>True when the ids came from a CSV id column (not row indices).</summary>
    public bool HasIdColumn { get; }

    /// <summary>Reads a <c>.npy</c> (float32/float64, N x D) or CSV file, chosen by extension.</summary>
    /// <exception cref="CliInputException">The file is missing, malformed, empty or holds non-finite values.</exception>
    public static EmbeddingTable Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliInputException(Directory.Exists(path)
                ? $"'{path}' is a folder; give an .npy or .csv file of embeddings (use 'cluster' for a folder of images)."
                : $"embeddings file '{path}' does not exist.");
        }
        var table = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".npy" => ReadNpy(path),
            ".csv" or ".txt" or ".tsv" => ReadCsv(path),
            var other => throw new CliInputException($"'{path}': unknown embeddings format '{other}'; give an .npy (N x D float32/float64) or a .csv file."),
        };
        try
        {
            Guard.Finite(table.Values, $"embeddings in '{Path.GetFileName(path)}'");
        }
        catch (InvalidClusteringInputException e)
        {
            throw new CliInputException(e.Message);
        }
        return table;
    }

    /// <summary>Reads an .npy file with one copy of the data (<see cref="NpyArray.ReadSingleMatrix"/>).</summary>
    private static EmbeddingTable ReadNpy(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        float[] values;
        int count, dimension;
        try
        {
            values = NpyArray.ReadSingleMatrix(stream, out count, out dimension);
        }
        catch (InvalidClusteringInputException e)
        {
            throw new CliInputException($"'{path}': {e.Message}");
        }
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = i.ToString(CultureInfo.InvariantCulture);
        }
        return new EmbeddingTable(values, count, dimension, ids, hasIdColumn: false);
    }

    private static EmbeddingTable ReadCsv(string path)
    {
        var rows = CsvText.ReadRows(path);
        if (rows.Count == 0)
        {
            throw new CliInputException($"'{path}' is empty.");
        }

        // A header row: text where data has numbers, an empty first cell (pandas' index column) or an id column name. A
        // line 1 of numbers but for column 1 is data, like any other line: the id-column rule below then takes column 1 as
        // ids (no line has a number there) or refuses it, naming line 1. Taken as a header, a typo there lost the row unsaid.
        var top = rows[0];
        var header = top.Skip(1).Any(field => !IsNumber(field))
            || top[0].Trim().Length == 0
            || IsIdColumnName(top[0])
            || IsColumnNumbering(rows)
            ? top
            : null;
        var data = header is null ? rows : rows.Skip(1).ToList();
        if (data.Count == 0)
        {
            throw new CliInputException($"'{path}' has a header but no rows of embeddings.");
        }
        var lineOffset = header is null ? 1 : 2;
        // Column 1 holds ids only when that is clear: a header names it (or leaves it blank, as pandas' index does), or
        // no row of it is a number. A column numeric in some rows and not in others is a typo or an 'NA', not ids:
        // taking it as ids would silently drop a dimension of every row.
        var idColumn = (header is not null && (header[0].Trim().Length == 0 || IsIdColumnName(header[0])))
            || data.All(row => !IsNumber(row[0]));
        if (!idColumn)
        {
            var textRow = data.FindIndex(row => !IsNumber(row[0]));
            if (textRow == 0 && header is null)
            {
                throw new CliInputException(
                    $"'{path}' line 1, column 1: '{data[0][0]}' is not a number, while the rest of line 1 is and other lines have numbers there: "
                    + "line 1 is read as a row of embeddings, not as a header. Correct the cell; if line 1 is a header, "
                    + $"name column 1 one of {string.Join(", ", IdColumnNames)} (column 1 then holds image ids) or leave its name blank, as pandas does for its index.");
            }
            if (textRow >= 0)
            {
                throw new CliInputException(
                    $"'{path}' line {textRow + lineOffset}, column 1: '{data[textRow][0]}' is not a number (other rows have numbers there). "
                    + $"If column 1 holds image ids, add a header row whose first name is one of {string.Join(", ", IdColumnNames)}.");
            }
        }

        var first = idColumn ? 1 : 0;
        var dimension = data[0].Length - first;
        if (dimension < 1)
        {
            throw new CliInputException($"'{path}' row 1 has no embedding values.");
        }
        var values = new float[data.Count * dimension];
        var ids = new string[data.Count];
        for (var i = 0; i < data.Count; i++)
        {
            var row = data[i];
            if (row.Length - first != dimension)
            {
                throw new CliInputException($"'{path}' line {i + lineOffset} has {row.Length - first} values; line {lineOffset} has {dimension}. Every row needs the same number.");
            }
            ids[i] = idColumn ? row[0].Trim() : i.ToString(CultureInfo.InvariantCulture);
            for (var j = 0; j < dimension; j++)
            {
                if (!float.TryParse(row[first + j], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i * dimension + j]))
                {
                    throw new CliInputException($"'{path}' line {i + lineOffset}, column {first + j + 1}: '{row[first + j]}' is not a number.");
                }
            }
        }
        var duplicate = ids.GroupBy(id => id, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new CliInputException($"'{path}': image id '{duplicate.Key}' occurs {duplicate.Count()} times; ids must be unique.");
        }
        return new EmbeddingTable(values, data.Count, dimension, ids, idColumn);
    }

    /// <summary>
    /// Whether line 1 is pandas' header for unnamed columns: <c>DataFrame(x).to_csv(index=False)</c> writes the column
    /// numbers 0, 1, ..., D - 1 (after an id column's name, when there is one), all numbers, so the rules above took it
    /// for a row of embeddings and clustered a made-up point. It is read as a header only when later lines hold a value
    /// that is not a whole number: a row of integers 0..D-1 above rows of integers may be data.
    /// </summary>
    private static bool IsColumnNumbering(List<string[]> rows)
    {
        var top = rows[0];
        var from = IsNumber(top[0]) ? 0 : 1;
        if (top.Length - from < 2)
        {
            return false;
        }
        for (var j = from; j < top.Length; j++)
        {
            if (top[j].Trim() != (j - from).ToString(CultureInfo.InvariantCulture))
            {
                return false;
            }
        }
        return rows.Skip(1).Any(row => row.Skip(from).Any(field => IsNumber(field) && !long.TryParse(field.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _)));
    }

    private static bool IsIdColumnName(string field) => IdColumnNames.Contains(field.Trim(), StringComparer.OrdinalIgnoreCase);

    private static bool IsNumber(string field) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
