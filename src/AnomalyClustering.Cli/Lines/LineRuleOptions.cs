using System.Globalization;
using AnomalyClustering.Core.Lines;

namespace AnomalyClustering.Cli.Lines;

/// <summary>The assignment rule's settings as the line commands take them (<c>--margin</c>, <c>--acceptance-factor</c>).</summary>
internal static class LineRuleOptions
{
    /// <summary>Throws a one-line <see cref="CliInputException"/> unless <paramref name="settings"/> are in range (<see cref="AssignmentRuleSettings.Validate"/>).</summary>
    public static void Check(AssignmentRuleSettings settings)
    {
        try
        {
            settings.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            // The exception's own message spans lines (parameter and actual value); say it in one.
            throw new CliInputException(string.Create(CultureInfo.InvariantCulture,
                $"--margin must be a share in [0, 1) and --acceptance-factor a positive finite number; got {settings.Margin} and {settings.AcceptanceFactor}."), e);
        }
    }
}
