using System.Globalization;
using System.Text;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Detection;

/// <summary>
/// Draws the image anomaly scores as an inline SVG histogram: equal-width bins from the smallest to the largest score,
/// good images (label <c>good</c>) and the others stacked in two colours when the images are labelled, and a dashed
/// vertical line at a detection threshold when there is one. O(N + bins).
/// </summary>
public static class AnomalyScoreHistogramSvg
{
    private const double Width = 1000;
    private const double Height = 240;
    private const double MarginLeft = 48;
    private const double MarginRight = 12;
    private const double MarginTop = 14;
    private const double MarginBottom = 30;
    private const string GoodColor = "#2ca02c";
    private const string DefectColor = "#d62728";
    private const string UnlabelledColor = "#1f77b4";

    /// <summary>The SVG element from bins already counted (<see cref="ScoreHistogram"/>; a report digest carries them).</summary>
    /// <param name="good">Good images per bin.</param>
    /// <param name="other">The other images per bin.</param>
    /// <param name="binMin">The smallest score (the first bin's left edge).</param>
    /// <param name="binMax">The largest score.</param>
    /// <param name="labelled">Whether the images have labels (good and defective drawn apart).</param>
    /// <param name="threshold">A detection threshold to mark, or null.</param>
    public static string Render(int[] good, int[] other, double binMin, double binMax, bool labelled, double? threshold)
    {
        ArgumentNullException.ThrowIfNull(good);
        ArgumentNullException.ThrowIfNull(other);
        // The bins' range as ScoreHistogram found it; the axis widens to show the threshold, the bins keep theirs.
        var (min, max) = threshold is { } t ? (Math.Min(binMin, t), Math.Max(binMax, t)) : (binMin, binMax);
        var span = max > min ? max - min : 1;
        var tallest = Math.Max(1, Enumerable.Range(0, ScoreHistogram.BinCount).Max(b => good[b] + other[b]));
        var plotWidth = Width - MarginLeft - MarginRight;
        var plotHeight = Height - MarginTop - MarginBottom;
        var binWidth = (binMax > binMin ? binMax - binMin : 1) / ScoreHistogram.BinCount;
        double X(double score) => MarginLeft + plotWidth * (score - min) / span;
        double Y(double count) => MarginTop + plotHeight * (1 - count / tallest);

        var svg = new StringBuilder();
        Append(svg, $"<svg id=\"score-histogram\" class=\"histogram\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"histogram of image anomaly scores\" xmlns=\"http://www.w3.org/2000/svg\">");
        Append(svg, $"<line x1=\"{MarginLeft}\" y1=\"{Y(0):F1}\" x2=\"{Width - MarginRight}\" y2=\"{Y(0):F1}\" stroke=\"#444\"/>");
        for (var tick = 0; tick <= 4; tick++)
        {
            var value = min + span * tick / 4;
            Append(svg, $"<text x=\"{X(value):F1}\" y=\"{Height - 10}\" font-size=\"11\" text-anchor=\"middle\">{value:G4}</text>");
        }
        Append(svg, $"<text x=\"{MarginLeft - 6}\" y=\"{MarginTop + 10}\" font-size=\"11\" text-anchor=\"end\">{tallest}</text>");
        for (var b = 0; b < ScoreHistogram.BinCount; b++)
        {
            var left = X(binMin + b * binWidth) + 0.5;
            var right = X(binMin + (b + 1) * binWidth) - 0.5;
            var barWidth = Math.Max(0.5, right - left);
            if (other[b] > 0)
            {
                var color = !labelled ? UnlabelledColor : DefectColor;
                var kind = !labelled ? "images" : "defective";
                Append(svg, $"<rect class=\"bar-{kind}\" x=\"{left:F1}\" y=\"{Y(other[b]):F1}\" width=\"{barWidth:F1}\" height=\"{Y(0) - Y(other[b]):F1}\" fill=\"{color}\"><title>{other[b]} {kind}</title></rect>");
            }
            if (good[b] > 0)
            {
                Append(svg, $"<rect class=\"bar-good\" x=\"{left:F1}\" y=\"{Y(other[b] + good[b]):F1}\" width=\"{barWidth:F1}\" height=\"{Y(0) - Y(good[b]):F1}\" fill=\"{GoodColor}\" fill-opacity=\"0.8\"><title>{good[b]} good</title></rect>");
            }
        }
        if (threshold is { } line)
        {
            Append(svg, $"<line id=\"score-threshold\" x1=\"{X(line):F1}\" y1=\"{MarginTop}\" x2=\"{X(line):F1}\" y2=\"{Y(0):F1}\" stroke=\"#000\" stroke-dasharray=\"6 4\"/>");
            Append(svg, $"<text x=\"{X(line) + 4:F1}\" y=\"{MarginTop + 10}\" font-size=\"11\">threshold {line:G4}</text>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Append(StringBuilder svg, FormattableString text) => svg.Append(text.ToString(CultureInfo.InvariantCulture));
}
