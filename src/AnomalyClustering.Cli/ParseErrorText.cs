using System.Text.RegularExpressions;

namespace AnomalyClustering.Cli;

/// <summary>
/// Says System.CommandLine's parse errors without .NET fragments: "as expected type 'System.Nullable`1[System.Int32]'"
/// becomes "as a whole number".
/// </summary>
internal static partial class ParseErrorText
{
    /// <summary>The message with every .NET type name replaced by what a person types.</summary>
    public static string Plain(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return ExpectedType().Replace(message, match => "as " + Describe(match.Groups["type"].Value));
    }

    private static string Describe(string type) => type switch
    {
        "Int32" or "Int64" or "Int16" => "a whole number",
        "Single" or "Double" or "Decimal" => "a number",
        "Boolean" => "true or false",
        "String" => "text",
        _ => "a value of the right kind (see --help)",
    };

    // "as expected type 'System.Int32'" or "as expected type 'System.Nullable`1[System.Int32]'".
    [GeneratedRegex(@"as expected type '(?:System\.Nullable`1\[)?System\.(?<type>\w+)\]?'")]
    private static partial Regex ExpectedType();
}
