using System.Globalization;
using System.Net;
using System.Text;

namespace AnomalyClustering.Reports.Dendrograms;

/// <summary>
/// Draws a <see cref="DendrogramLayout"/> as inline SVG: merges in their cluster's colour below the cut (grey above it),
/// a dashed cut line, a height axis, and a coloured mark per leaf whose tooltip names the image (or the subtree size).
/// </summary>
public static class DendrogramSvg
{
    private const double Width = 1000;
    private const double Height = 320;
    private const double MarginLeft = 56;
    private const double MarginRight = 12;
    private const double MarginTop = 16;
    private const double MarginBottom = 28;
    private const string AboveCutColor = "#8a8a8a";

    /// <summary>The SVG element.</summary>
    /// <param name="layout">The layout.</param>
    /// <param name="colorOf">CSS colour of a cluster index.</param>
    /// <param name="leafTitle">Tooltip of a leaf (its image id, or the size of a collapsed subtree).</param>
    /// <param name="cutLabel">Text next to the cut line (e.g. "cut: K = 6").</param>
    public static string Render(DendrogramLayout layout, Func<int, string> colorOf, Func<DendrogramLeaf, string> leafTitle, string cutLabel)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(colorOf);
        ArgumentNullException.ThrowIfNull(leafTitle);
        var top = Math.Max(Math.Max(layout.MaxHeight, layout.CutHeight), 1e-12) * 1.02;
        var plotWidth = Width - MarginLeft - MarginRight;
        var plotHeight = Height - MarginTop - MarginBottom;
        var slot = plotWidth / Math.Max(1, layout.Leaves.Count);
        double X(double leafX) => MarginLeft + leafX * slot;
        double Y(double h) => MarginTop + plotHeight * (1 - h / top);

        var svg = new StringBuilder();
        Append(svg, $"<svg id=\"dendrogram-svg\" class=\"dendrogram\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"dendrogram with the cut\" xmlns=\"http://www.w3.org/2000/svg\">");
        // Height axis with five ticks.
        Append(svg, $"<line class=\"axis\" x1=\"{MarginLeft}\" y1=\"{MarginTop}\" x2=\"{MarginLeft}\" y2=\"{Y(0)}\" stroke=\"#444\"/>");
        for (var t = 0; t <= 4; t++)
        {
            var value = top * t / 4;
            Append(svg, $"<line x1=\"{MarginLeft - 4}\" y1=\"{Y(value)}\" x2=\"{MarginLeft}\" y2=\"{Y(value)}\" stroke=\"#444\"/>");
            Append(svg, $"<text x=\"{MarginLeft - 6}\" y=\"{Y(value) + 4}\" text-anchor=\"end\" font-size=\"11\">{value.ToString("G3", CultureInfo.InvariantCulture)}</text>");
        }
        Append(svg, $"<text x=\"14\" y=\"{MarginTop + plotHeight / 2}\" font-size=\"11\" transform=\"rotate(-90 14 {MarginTop + plotHeight / 2})\" text-anchor=\"middle\">merge height</text>");

        foreach (var link in layout.Links)
        {
            var color = link.Cluster >= 0 ? colorOf(link.Cluster) : AboveCutColor;
            Append(svg,
                $"<path class=\"link\" data-row=\"{link.Row}\" data-cluster=\"{link.Cluster}\" d=\"M{X(link.LeftX)},{Y(link.LeftHeight)} V{Y(link.Height)} H{X(link.RightX)} V{Y(link.RightHeight)}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.2\"/>");
        }
        foreach (var leaf in layout.Leaves)
        {
            var color = leaf.Cluster >= 0 ? colorOf(leaf.Cluster) : AboveCutColor;
            var width = Math.Max(1, slot - 1);
            Append(svg,
                $"<rect class=\"leaf\" data-node=\"{leaf.Node}\" data-cluster=\"{leaf.Cluster}\" x=\"{X(leaf.X) - width / 2}\" y=\"{Y(0) + 3}\" width=\"{width}\" height=\"8\" fill=\"{color}\"><title>{WebUtility.HtmlEncode(leafTitle(leaf))}</title></rect>");
        }
        Append(svg,
            $"<line class=\"cut\" data-height=\"{layout.CutHeight.ToString("R", CultureInfo.InvariantCulture)}\" x1=\"{MarginLeft}\" y1=\"{Y(layout.CutHeight)}\" x2=\"{Width - MarginRight}\" y2=\"{Y(layout.CutHeight)}\" stroke=\"#111\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>");
        Append(svg, $"<text class=\"cut-label\" x=\"{Width - MarginRight}\" y=\"{Y(layout.CutHeight) - 5}\" text-anchor=\"end\" font-size=\"12\" fill=\"#111\">{WebUtility.HtmlEncode(cutLabel)}</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Append(StringBuilder svg, FormattableString text) => svg.Append(FormattableString.Invariant(text));
}
