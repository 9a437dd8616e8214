using System.Text;

namespace AnomalyClustering.Cli.Vectors;

/// <summary>
/// Reads and writes the small CSV files of the CLI (RFC 4180 quoting; comma, or tab for <c>.tsv</c>).
/// Blank lines are skipped; fields are returned as written, unquoted.
/// </summary>
internal static class CsvText
{
    /// <summary>The rows of a CSV file, each an array of fields.</summary>
    public static List<string[]> ReadRows(string path)
    {
        var separator = Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var rows = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Trim().Length == 0)
            {
                continue;
            }
            fields.Clear();
            field.Clear();
            var quoted = false;
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else if (c == '"')
                    {
                        quoted = false;
                    }
                    else
                    {
                        field.Append(c);
                    }
                }
                else if (c == '"')
                {
                    quoted = true;
                }
                else if (c == separator)
                {
                    fields.Add(field.ToString());
                    field.Clear();
                }
                else
                {
                    field.Append(c);
                }
            }
            fields.Add(field.ToString());
            rows.Add(fields.ToArray());
        }
        return rows;
    }

    /// <summary>One field, quoted when it holds a comma, quote or line break.</summary>
    public static string Escape(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
}
