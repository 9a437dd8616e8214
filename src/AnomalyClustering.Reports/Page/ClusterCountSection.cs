using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Reports.Page;

/// <summary>
/// The report's "Number of clusters" section: how K was chosen (the criterion's curve over K as an SVG, the chosen K marked)
/// and a control that re-cuts the merge tree at another K in the page, with the clusters' sizes and labels and their
/// clusters.csv, without a rerun. The merge tree travels in the page's data; the script cuts it as SciPy's maxclust does.
/// </summary>
internal static class ClusterCountSection
{
    private const int Width = 640;
    private const int Height = 200;
    private const int Margin = 36;

    /// <summary>
    /// Appends the section's markup. O(points on the curve). The re-cut control only when the page lists every image
    /// (<paramref name="canRecut"/>): the cut is per image. <paramref name="imageCount"/>: the result's N (its images, when not given).
    /// </summary>
    public static void Render(StringBuilder html, ClusteringResult result, bool canRecut = true, int recutUpTo = 0, int? imageCount = null)
    {
        html.Append("<section id=\"cluster-count\">\n<h2>Number of clusters</h2>\n");
        if (result.ClusterCountChoice is { } choice)
        {
            var criterion = ClusteringOptionNames.Of(choice.Criterion);
            html.Append(Invariant($"<p id=\"cluster-count-choice\" data-k=\"{choice.ClusterCount}\" data-criterion=\"{criterion}\">K = <b>{choice.ClusterCount}</b> was found without labels: the largest {criterion} of the cuts into K = {choice.Curve[0].ClusterCount}..{choice.Curve[^1].ClusterCount} clusters (docs/RESULTS.md compares the criteria). Click a point to cut there instead.</p>\n"));
            Curve(html, choice);
        }
        else if (result.Options.DistanceThreshold is { } threshold)
        {
            // K was not given but followed from the threshold: say so, as the dendrogram's cut label does.
            html.Append(Invariant($"<p class=\"note\">The tree was cut at distance {threshold:G4}, which gives K = {result.ClusterCount}. Another cut can be tried below.</p>\n"));
        }
        else
        {
            html.Append(Invariant($"<p class=\"note\">K = {result.ClusterCount} was given (or taken from the labels). Another cut can be tried below.</p>\n"));
        }
        if (!canRecut)
        {
            html.Append(Invariant($"<p class=\"note\" id=\"recut-unavailable\">Re-cutting the tree in the page is offered up to {recutUpTo} images (it needs every image in the page); this result has {imageCount ?? result.Images.Count}. Cut it at another K from its files: linkage.npy is SciPy's linkage matrix (scipy.cluster.hierarchy.fcluster).</p>\n</section>\n"));
            return;
        }
        html.Append(Invariant($"<p class=\"recut-tools\"><label>Cut the tree at K = <input type=\"number\" id=\"recut-k\" min=\"1\" max=\"{result.MergeTree.PointCount}\" value=\"{result.ClusterCount}\"></label> "));
        html.Append("<button type=\"button\" id=\"recut-download\">Download clusters.csv of this cut</button> <span id=\"recut-status\" role=\"status\"></span></p>\n");
        html.Append("<table class=\"recut\" id=\"recut-table\">\n<thead><tr><th>cluster</th><th>images</th><th>labels</th></tr></thead>\n<tbody></tbody>\n</table>\n</section>\n");
    }

    /// <summary>The merge tree for the script: rows [left, right, height] as in SciPy's Z.</summary>
    public static void WriteLinkage(Utf8JsonWriter json, MergeTree tree)
    {
        json.WriteStartArray("linkage");
        foreach (var step in tree.LinkageMatrix)
        {
            json.WriteStartArray();
            json.WriteNumberValue(step.Left);
            json.WriteNumberValue(step.Right);
            json.WriteNumberValue(step.Height);
            json.WriteEndArray();
        }
        json.WriteEndArray();
    }

    private static void Curve(StringBuilder html, ClusterCountChoice choice)
    {
        var scored = choice.Curve.Where(score => !double.IsNaN(score.Value)).ToArray();
        var low = scored.Min(score => score.Value);
        var high = scored.Max(score => score.Value);
        var span = high > low ? high - low : 1;
        var firstK = choice.Curve[0].ClusterCount;
        var lastK = choice.Curve[^1].ClusterCount;
        double X(int k) => Margin + ((double)(k - firstK) / Math.Max(1, lastK - firstK) * (Width - (2 * Margin)));
        double Y(double value) => Height - Margin - ((value - low) / span * (Height - (2 * Margin)));

        html.Append(Invariant($"<svg id=\"cluster-count-curve\" class=\"curve\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"criterion value by K\">\n"));
        html.Append(Invariant($"<line class=\"axis\" x1=\"{Margin}\" y1=\"{Height - Margin}\" x2=\"{Width - Margin}\" y2=\"{Height - Margin}\"/>\n"));
        html.Append("<polyline class=\"curve-line\" points=\"").Append(string.Join(' ', scored.Select(s => Invariant($"{X(s.ClusterCount):F1},{Y(s.Value):F1}")))).Append("\"/>\n");
        foreach (var score in scored)
        {
            var chosen = score.ClusterCount == choice.ClusterCount ? " chosen" : string.Empty;
            html.Append(Invariant($"<circle class=\"curve-point{chosen}\" data-k=\"{score.ClusterCount}\" cx=\"{X(score.ClusterCount):F1}\" cy=\"{Y(score.Value):F1}\" r=\"{(chosen.Length > 0 ? 6 : 4)}\"><title>K = {score.ClusterCount}: {score.Value:G4}</title></circle>\n"));
        }
        foreach (var score in choice.Curve)
        {
            html.Append(Invariant($"<text class=\"tick\" x=\"{X(score.ClusterCount):F1}\" y=\"{Height - Margin + 14}\" text-anchor=\"middle\">{score.ClusterCount}</text>\n"));
        }
        html.Append(Invariant($"<text class=\"tick\" x=\"{Margin - 4}\" y=\"{Y(high):F1}\" text-anchor=\"end\">{high:G3}</text>\n"));
        html.Append(Invariant($"<text class=\"tick\" x=\"{Margin - 4}\" y=\"{Y(low):F1}\" text-anchor=\"end\">{low:G3}</text>\n"));
        html.Append(Invariant($"<text class=\"tick\" x=\"{Width / 2}\" y=\"{Height - 4}\" text-anchor=\"middle\">K (")).Append(WebUtility.HtmlEncode(ClusteringOptionNames.Of(choice.Criterion))).Append(")</text>\n</svg>\n");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
