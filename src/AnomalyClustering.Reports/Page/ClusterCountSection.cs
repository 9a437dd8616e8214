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
    /// Appends the section's markup. O(points on the curve). The re-cut control is per image when the page lists every image
    /// (<paramref name="canRecut"/>); otherwise, when <paramref name="top"/> has its branches, it cuts the tree top into at
    /// most as many clusters as it has branches, with sizes and labels but no per-image file. <paramref name="imageCount"/>:
    /// the result's N (its images, when not given).
    /// </summary>
    public static void Render(StringBuilder html, ClusteringResult result, bool canRecut = true, int recutUpTo = 0, int? imageCount = null, ReportDigestTree? top = null)
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
        var images = imageCount ?? result.Images.Count;
        if (!canRecut && top is not null && CanRecutTop(top))
        {
            var most = top.Branches!.Count;
            html.Append(Invariant($"<p class=\"note\" id=\"recut-top\">This result has {images} images, more than the page lists ({recutUpTo}): it re-cuts the top of the tree, into at most {most} clusters, and shows their sizes and labels. Each image's cluster at another K: cut linkage.npy (SciPy's linkage matrix) with scipy.cluster.hierarchy.fcluster; for a two-stage tree its leaves are the leaf column of images.parquet.</p>\n"));
            html.Append(Invariant($"<p class=\"recut-tools\"><label>Cut the tree at K = <input type=\"number\" id=\"recut-k\" min=\"1\" max=\"{most}\" value=\"{Math.Min(result.ClusterCount, most)}\"></label> "));
            html.Append("<span id=\"recut-status\" role=\"status\"></span></p>\n");
            RecutTable(html);
            return;
        }
        if (!canRecut)
        {
            html.Append(Invariant($"<p class=\"note\" id=\"recut-unavailable\">Re-cutting the tree in the page is offered up to {recutUpTo} images (it needs every image in the page); this result has {images}. Cut it at another K from its files: linkage.npy is SciPy's linkage matrix (scipy.cluster.hierarchy.fcluster).</p>\n</section>\n"));
            return;
        }
        html.Append(Invariant($"<p class=\"recut-tools\"><label>Cut the tree at K = <input type=\"number\" id=\"recut-k\" min=\"1\" max=\"{result.MergeTree.PointCount}\" value=\"{result.ClusterCount}\"></label> "));
        html.Append("<button type=\"button\" id=\"recut-download\">Download clusters.csv of this cut</button> <span id=\"recut-status\" role=\"status\"></span></p>\n");
        RecutTable(html);
    }

    /// <summary>Whether <paramref name="top"/> carries what a re-cut of the tree top needs: its branches, at least two.</summary>
    public static bool CanRecutTop(ReportDigestTree top) => top.Branches is { Count: > 1 };

    /// <summary>
    /// The tree top for the script, as a linkage of its own over the branches: rows [left, right, height] in which branch b
    /// (in order of first image) is node b and kept row j is node B + j, so that the per-image cut's code cuts it unchanged;
    /// and each branch's images and label counts. O(tree top).
    /// </summary>
    public static void WriteTreeTop(Utf8JsonWriter json, ReportDigestTree top)
    {
        var branches = top.Branches!;
        var nodeOf = new Dictionary<int, int>(branches.Count + top.Rows.Count);
        for (var b = 0; b < branches.Count; b++)
        {
            nodeOf[branches[b].Node] = b;
        }
        for (var j = 0; j < top.Rows.Count; j++)
        {
            nodeOf[top.PointCount + top.FirstRow + j] = branches.Count + j;
        }
        json.WriteStartObject("treeTop");
        json.WriteStartArray("linkage");
        foreach (var step in top.Rows)
        {
            json.WriteStartArray();
            json.WriteNumberValue(nodeOf[step.Left]);
            json.WriteNumberValue(nodeOf[step.Right]);
            json.WriteNumberValue(step.Height);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteStartArray("branches");
        foreach (var branch in branches)
        {
            json.WriteStartObject();
            json.WriteNumber("size", branch.Size);
            json.WriteStartArray("labels");
            foreach (var (label, count) in branch.LabelCounts)
            {
                json.WriteStartArray();
                json.WriteStringValue(label);
                json.WriteNumberValue(count);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void RecutTable(StringBuilder html) =>
        html.Append("<table class=\"recut\" id=\"recut-table\">\n<thead><tr><th>cluster</th><th>images</th><th>labels</th></tr></thead>\n<tbody></tbody>\n</table>\n</section>\n");

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
