using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AnomalyClustering.Silo.Api;

/// <summary>
/// Says what is wrong with a JSON request body in the caller's terms. System.Text.Json's own messages name .NET types
/// ("could not be converted to System.Nullable`1[System.Boolean]", "any .NET member contained in type
/// 'AnomalyClustering.Silo.Api.SubmitJobRequest'"): internal detail the caller cannot act on.
/// </summary>
public static partial class JsonRequestErrors
{
    /// <summary>One sentence: the field (its JSON path) and what it must be, an unknown field, or where the JSON breaks.</summary>
    public static string Describe(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = exception.Message;
        var field = FieldOf(exception.Path);
        if (UnknownMember().Match(message) is { Success: true } unknown)
        {
            return $"unknown field '{unknown.Groups[1].Value}'; /openapi/v1.json lists the fields.";
        }
        if (MissingMembers().Match(message) is { Success: true } missing)
        {
            return $"missing required field(s) {missing.Groups[1].Value.TrimEnd('.')}.";
        }
        if (Conversion().Match(message) is { Success: true } conversion)
        {
            var expected = Expected(conversion.Groups[1].Value);
            return field is null ? $"the body must be {expected}." : $"{field} must be {expected}.";
        }
        if (!message.Contains(" Path: ", StringComparison.Ordinal) && !message.Contains("LineNumber", StringComparison.Ordinal))
        {
            // A converter of ours said it in words already (clusters: "a whole number K or auto").
            return message;
        }
        // A syntax error: the reader's own words name no type; its position is kept, in ours.
        var at = exception.LineNumber is { } line && exception.BytePositionInLine is { } column
            ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {column + 1}")
            : string.Empty;
        return message.Contains("System.", StringComparison.Ordinal) || message.Contains('`', StringComparison.Ordinal)
            ? $"the JSON does not fit the request{at}."
            : $"the JSON is malformed{at}: {PositionTail().Replace(message, string.Empty).TrimEnd('.', ' ')}.";
    }

    // "$.options.pretrainDimension" -> "options.pretrainDimension" (options read by a converter of their own start at "$"
    // again: "pretrainDimension"); "$" -> none.
    private static string? FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    private static string Expected(string dotNetType)
    {
        var type = NullableOf().Match(dotNetType) is { Success: true } inner ? inner.Groups[1].Value : dotNetType;
        return type switch
        {
            "System.Int32" => "a whole number from -2147483648 to 2147483647",
            "System.Int64" => "a whole number",
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Boolean" => "true or false",
            "System.String" => "a string",
            "System.DateTimeOffset" or "System.DateTime" => "an ISO 8601 time",
            "System.TimeSpan" => "a time span (hh:mm:ss)",
            _ when type.StartsWith("System.Collections", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal) => "a JSON array",
            _ when type.StartsWith("System.", StringComparison.Ordinal) => "a value of the form /openapi/v1.json gives",
            // One of the request's own records (the body, its options): the one place a JSON object belongs.
            _ => "a JSON object",
        };
    }

    [GeneratedRegex(@"The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownMember();

    [GeneratedRegex(@"missing required properties including: (.*)$")]
    private static partial Regex MissingMembers();

    [GeneratedRegex(@"could not be converted to ([^\s]+?)\.? Path:")]
    private static partial Regex Conversion();

    [GeneratedRegex(@"^System\.Nullable`1\[(.+)\]$")]
    private static partial Regex NullableOf();

    [GeneratedRegex(@"\s*Path: .*$")]
    private static partial Regex PositionTail();
}
