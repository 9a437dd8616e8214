using AnomalyClustering.Core.Lines;

namespace AnomalyClustering.Cli.Lines;

/// <summary>The assignment rule's settings as the line commands take them (<c>--margin</c>, <c>--acceptance-factor</c>).</summary>
internal static class LineRuleOptions
{
    /// <summary>
    /// Throws unless <paramref name="settings"/> are in range (<see cref="AssignmentRuleSettings.Validate"/>); its one-line
    /// message names the value and the range, and the CLI shows it as an input error.
    /// </summary>
    /// <exception cref="AnomalyClustering.Core.Validation.InvalidClusteringInputException">A setting is out of range.</exception>
    public static void Check(AssignmentRuleSettings settings) => settings.Validate();
}
