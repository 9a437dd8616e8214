using System.Text.RegularExpressions;

namespace AnomalyClustering.Deployment.Tests.Dashboard;

/// <summary>
/// The metric names a PromQL expression reads. Strings, label matchers, range selectors and grouping clauses are removed,
/// then every identifier that is not a function call, keyword or number part is a metric name. O(length of the expression).
/// </summary>
internal static partial class PromQlMetricNames
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan",
    };

    /// <summary>The distinct metric names of one expression.</summary>
    public static IReadOnlySet<string> Of(string expression)
    {
        var text = StringLiteral().Replace(expression, "\"\"");
        text = LabelMatchers().Replace(text, " ");
        text = RangeSelector().Replace(text, " ");
        text = GroupingClause().Replace(text, " ");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match identifier in Identifier().Matches(text))
        {
            var before = identifier.Index > 0 ? text[identifier.Index - 1] : ' ';
            var after = text[(identifier.Index + identifier.Length)..].TrimStart();
            if (char.IsDigit(before) || before == '.' || before == '$' || after.StartsWith('(') || Keywords.Contains(identifier.Value))
            {
                continue;
            }
            names.Add(identifier.Value);
        }
        return names;
    }

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|'(?:[^'\\]|\\.)*'")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex RangeSelector();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex GroupingClause();

    [GeneratedRegex(@"[A-Za-z_:][A-Za-z0-9_:]*")]
    private static partial Regex Identifier();
}
