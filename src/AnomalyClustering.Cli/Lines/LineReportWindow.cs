using System.Globalization;
using System.Text.RegularExpressions;

namespace AnomalyClustering.Cli.Lines;

/// <summary>The window of <c>line report --since</c>: a duration back from now (<c>90m</c>, <c>24h</c>, <c>7d</c>, <c>2w</c>) or an ISO 8601 time.</summary>
internal static partial class LineReportWindow
{
    /// <summary>The longest window a duration may name: ten years.</summary>
    private static readonly TimeSpan LongestWindow = TimeSpan.FromDays(3660);

    /// <summary>The start of the window that <paramref name="since"/> names, before <paramref name="now"/>.</summary>
    /// <exception cref="CliInputException">Neither a duration of 1 minute to 10 years nor a time before now.</exception>
    public static DateTimeOffset Start(string since, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(since);
        var match = Duration().Match(since.Trim());
        if (match.Success)
        {
            // The window is checked in minutes, before a TimeSpan is made: TimeSpan.FromDays(99999999) overflows (an
            // internal error rather than this input error), and a window under a minute (0.01m) is below the stated least.
            var amount = double.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture);
            var minutes = amount * match.Groups["unit"].Value switch
            {
                "m" => 1.0,
                "h" => 60.0,
                "d" => 24.0 * 60,
                _ => 7.0 * 24 * 60,
            };
            if (!(minutes >= 1 && minutes <= LongestWindow.TotalMinutes))
            {
                throw new CliInputException($"--since '{since}' is not a window of 1 minute to 10 years; give e.g. 24h, 90m or 7d.");
            }
            return now - TimeSpan.FromMinutes(minutes);
        }
        if (DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at < now ? at : throw new CliInputException($"--since '{since}' is not in the past; give a time before now ({now:O}) or a duration such as 24h.");
        }
        throw new CliInputException($"--since '{since}' is neither a duration (a number and m, h, d or w: 90m, 24h, 7d) nor an ISO 8601 time (2026-12-02T08:00:00Z).");
    }

    [GeneratedRegex(@"^(?<amount>\d+(\.\d+)?)(?<unit>[mhdw])\z", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();
}
