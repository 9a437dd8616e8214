using System.Text.Json;
using AnomalyClustering.Core.Clustering;
using AnomalyClustering.Reports.Dendrograms;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Reports.Tests.Unit;

/// <summary>The dendrogram's geometry against SciPy's <c>dendrogram</c> (tools/fixtures/gen_reports.py), full and truncated, and its cut.</summary>
public sealed class DendrogramLayoutTests
{
    public static TheoryData<string> Cases => new(Fixture().Select(c => c.GetProperty("name").GetString()!));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Full_layout_has_SciPys_leaf_order_and_links(string name)
    {
        var (tree, clusters, k, expected) = Load(name);
        var layout = DendrogramLayout.Of(tree, clusters, k, null, maxLeaves: tree.PointCount);
        Assert.False(layout.IsTruncated);
        Assert.Equal(expected.GetProperty("full").GetProperty("leaves").EnumerateArray().Select(e => e.GetInt32()), layout.Leaves.Select(l => l.Node));
        AssertLinks(expected.GetProperty("full"), layout);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Truncated_layout_matches_SciPys_lastp(string name)
    {
        var (tree, clusters, _, expected) = Load(name);
        var lastp = expected.GetProperty("lastp");
        var p = lastp.GetProperty("p").GetInt32();
        var layout = DendrogramLayout.Of(tree, clusters, clusterCount: 1, distanceThreshold: null, maxLeaves: p);
        Assert.True(layout.IsTruncated);
        Assert.Equal(lastp.GetProperty("leaves").EnumerateArray().Select(e => e.GetInt32()), layout.Leaves.Select(l => l.Node));
        Assert.Equal(tree.PointCount, layout.Leaves.Sum(l => l.Size));
        AssertLinks(lastp, layout);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_cut_crosses_K_branches_and_colours_only_merges_inside_a_cluster(string name)
    {
        var (tree, clusters, k, _) = Load(name);
        var layout = DendrogramLayout.Of(tree, clusters, k, null, maxLeaves: tree.PointCount);
        var crossings = layout.Links.Sum(link =>
            (link.LeftHeight < layout.CutHeight && layout.CutHeight < link.Height ? 1 : 0) + (link.RightHeight < layout.CutHeight && layout.CutHeight < link.Height ? 1 : 0));
        Assert.Equal(k, crossings);
        Assert.All(layout.Links, link => Assert.Equal(link.Height < layout.CutHeight, link.Cluster >= 0));
        // A leaf's colour is its own cluster.
        Assert.All(layout.Leaves, leaf => Assert.Equal(clusters[leaf.Node], leaf.Cluster));
    }

    [Fact]
    public void A_distance_cut_is_drawn_at_the_threshold()
    {
        var (tree, _, _, _) = Load("ward_n12");
        var threshold = tree.LinkageMatrix[8].Height + 0.01;
        var layout = DendrogramLayout.Of(tree, tree.CutAtDistance(threshold), null, threshold);
        Assert.Equal(threshold, layout.CutHeight);
    }

    [Fact]
    public void The_svg_draws_every_link_leaf_and_the_cut()
    {
        var (tree, clusters, k, _) = Load("average_n25");
        var layout = DendrogramLayout.Of(tree, clusters, k, null, maxLeaves: tree.PointCount);
        var svg = DendrogramSvg.Render(layout, c => "#000000", leaf => $"image <{leaf.Node}>", "cut: K = 4");
        Assert.Equal(tree.PointCount - 1, CountOf(svg, "class=\"link\""));
        Assert.Equal(tree.PointCount, CountOf(svg, "class=\"leaf\""));
        Assert.Equal(1, CountOf(svg, "class=\"cut\""));
        Assert.Contains("image &lt;3&gt;", svg);
    }

    private static int CountOf(string text, string fragment) => (text.Length - text.Replace(fragment, string.Empty, StringComparison.Ordinal).Length) / fragment.Length;

    /// <summary>SciPy draws leaf i at x = 5 + 10 i; ours at i + 0.5. Links are compared as sets (SciPy lists them in walk order).</summary>
    private static void AssertLinks(JsonElement expected, DendrogramLayout layout)
    {
        var icoord = expected.GetProperty("icoord").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var dcoord = expected.GetProperty("dcoord").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var scipy = icoord.Zip(dcoord, (x, y) => Key(x[0] / 10, x[2] / 10, y[0], y[1], y[3])).Order().ToList();
        var ours = layout.Links.Select(l => Key(l.LeftX, l.RightX, l.LeftHeight, l.Height, l.RightHeight)).Order().ToList();
        Assert.Equal(scipy, ours);
    }

    private static string Key(double leftX, double rightX, double leftHeight, double height, double rightHeight) =>
        FormattableString.Invariant($"{leftX:F6} {rightX:F6} {leftHeight:G10} {height:G10} {rightHeight:G10}");

    private static (MergeTree Tree, int[] Clusters, int K, JsonElement Case) Load(string name)
    {
        var c = Fixture().Single(c => c.GetProperty("name").GetString() == name);
        var rows = c.GetProperty("linkage").EnumerateArray().ToArray();
        var z = new double[rows.Length, 4];
        for (var r = 0; r < rows.Length; r++)
        {
            var values = rows[r].EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (var j = 0; j < 4; j++)
            {
                z[r, j] = values[j];
            }
        }
        var tree = MergeTree.FromLinkageArray(z);
        var k = c.GetProperty("clusters").GetInt32();
        return (tree, tree.CutToClusters(k), k, c);
    }

    private static IEnumerable<JsonElement> Fixture() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("reports", "dendrograms.json"))).RootElement.GetProperty("cases").EnumerateArray();
}
