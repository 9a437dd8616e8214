using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using AnomalyClustering.Jobs;
using AnomalyClustering.Reports.Dendrograms;
using AnomalyClustering.Reports.Detection;
using AnomalyClustering.Reports.Galleries;
using AnomalyClustering.Reports.HeatMaps;
using AnomalyClustering.Reports.Thumbnails;

namespace AnomalyClustering.Reports.Page;

/// <summary>
/// Writes the report's HTML: the static parts (summary, cluster headers, dendrogram, confusion matrix, errors, options)
/// as markup, the galleries as data (a JSON block) that the page's script pages through, and the script and stylesheet
/// inline. Every text from the result is HTML-encoded; the JSON block escapes '&lt;' so it cannot end its script element.
/// </summary>
internal static class ReportPage
{
    /// <summary>Cluster colours (matplotlib's tab20, the strong ten first); cluster k gets colour k mod 20.</summary>
    private static readonly string[] Palette =
    [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
        "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
    ];

    private static readonly Lazy<string> Stylesheet = new(() => Asset("report.css"));
    private static readonly Lazy<string> Script = new(() => Asset("report.js"));
    private static readonly Lazy<string> ScriptHash = new(() =>
        Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(ScriptElementText))));

    /// <summary>The text of the page's one executable script element (its hash goes into the Content-Security-Policy).</summary>
    private static string ScriptElementText => "\n" + Script.Value;

    /// <summary>
    /// The Content-Security-Policy a server sends with the page: its own script only (by hash), styles inline (the page
    /// colours swatches with style attributes), images from the server itself or inline, requests only back to the server
    /// (saving names), no plugins, frames, forms or base-URL changes.
    /// </summary>
    public static string ContentSecurityPolicy =>
        $"default-src 'none'; script-src 'sha256-{ScriptHash.Value}'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>The colour of cluster <paramref name="cluster"/>.</summary>
    public static string ColorOf(int cluster) => Palette[cluster % Palette.Length];

    /// <summary>The whole page, with thumbnails by image index (null for images no gallery shows).</summary>
    public static string Render(ClusteringResult result, ResultSource source, IReadOnlyList<ThumbnailLinks?> thumbnails, ReportOptions options) =>
        Render(result, source, ReportSelection.Of(result, options, HasAnomalyScores(result)), thumbnails, options, TotalsOf(result, options));

    /// <summary>
    /// The totals of the whole <paramref name="result"/> the page shows (sizes, label counts, histogram, errors, tree top):
    /// a digest without rows, computed here for a result read whole. Its tree top is at least as tall as a stored digest's
    /// (<see cref="ReportDigest.DefaultTreeLeaves"/>), so that the page re-cuts the top into as many clusters as a page
    /// served from the digest. O(N log N).
    /// </summary>
    public static ReportDigest TotalsOf(ClusteringResult result, ReportOptions options) =>
        ReportDigest.Of(
            result, new double[result.Images.Count], rowsPerList: 0, treeLeaves: Math.Max(options.MaxDendrogramLeaves, ReportDigest.DefaultTreeLeaves), errorRows: options.MaxErrorRows);

    /// <summary>
    /// The whole page, showing <paramref name="selection"/> of <paramref name="result"/>'s images, with the totals of the whole
    /// result from <paramref name="totals"/> (for a result built from a report digest, its images are only the digest's rows).
    /// </summary>
    public static string Render(
        ClusteringResult result, ResultSource source, ReportSelection selection, IReadOnlyList<ThumbnailLinks?> thumbnails, ReportOptions options, ReportDigest totals)
    {
        var galleries = selection.Galleries;
        // Asked once here (O(N)) and passed down: the summary, toolbar, score section and every gallery's data depend on it.
        var hasScores = selection.ByScore is not null;
        var title = options.Title ?? $"Clusters of {Path.GetFileName(source.Path.TrimEnd('/', '\\'))}";
        var html = new StringBuilder(64 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<meta name=\"generator\" content=\"anomaly-cluster\">\n");
        // A self-contained page: no favicon request (a served report would otherwise ask the API for /favicon.ico).
        html.Append("<link rel=\"icon\" href=\"data:,\">\n");
        html.Append("<title>").Append(Encode(title)).Append("</title>\n<style>\n").Append(Stylesheet.Value).Append("</style>\n</head>\n");
        html.Append("<body");
        if (options.ApiBaseUrl is not null && options.JobId is not null)
        {
            html.Append(" data-api-base=\"").Append(Encode(options.ApiBaseUrl)).Append("\" data-job-id=\"").Append(Encode(options.JobId)).Append('"');
        }
        html.Append(">\n");

        Summary(html, title, result, totals, source, hasScores);
        Toolbar(html, result, options, hasScores);
        Legend(html, result);
        Clusters(html, result, totals, galleries, options.MaxImagesPerCluster, served: options.ApiBaseUrl is not null && options.JobId is not null);
        if (hasScores && totals.Histogram is { } histogram)
        {
            AnomalyScores(html, result, histogram, totals.ImageCount);
        }
        Dendrogram(html, result, totals.Tree, options.MaxDendrogramLeaves);
        ClusterCountSection.Render(html, result, selection.ListsEveryImage, options.FullImageListUpTo, totals.ImageCount, totals.Tree);
        Confusion(html, result, totals);
        Errors(html, totals, options.MaxErrorRows);
        Options(html, result, source);

        html.Append("<script type=\"application/json\" id=\"report-data\">").Append(Data(result, totals, selection, thumbnails, options)).Append("</script>\n");
        html.Append("<script>").Append(ScriptElementText).Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void Summary(StringBuilder html, string title, ClusteringResult result, ReportDigest totals, ResultSource source, bool hasScores)
    {
        html.Append("<header class=\"summary\">\n<h1>").Append(Encode(title)).Append("</h1>\n<p>");
        html.Append(Invariant($"{totals.ImageCount} images in {result.ClusterCount} clusters"));
        html.Append(" · mode ").Append(Encode(ClusteringOptionNames.Of(result.Options.Mode)));
        html.Append(" · backbone ").Append(Encode(source.Backbone ?? "none (precomputed embeddings)"));
        if (totals.ErrorCount > 0)
        {
            html.Append(Invariant($" · <a href=\"#errors\">{totals.ErrorCount} image(s) left out</a>"));
        }
        html.Append("</p>\n");
        Warnings(html, result.Warnings);
        if (totals.Metrics is { } scores)
        {
            html.Append(Invariant(
                $"<p class=\"metrics\">NMI <b id=\"metric-nmi\">{scores.NormalizedMutualInformation:F3}</b> · ARI <b id=\"metric-ari\">{scores.AdjustedRandIndex:F3}</b> · F1 <b id=\"metric-f1\">{scores.HungarianF1:F3}</b> against {result.ClassNames.Count} label classes</p>\n"));
        }
        if (result.Detection is { } detection)
        {
            html.Append(Invariant(
                $"<p class=\"metrics\">image AUROC <b id=\"metric-image-auroc\">{detection.ImageAuroc:F3}</b> ({detection.DefectiveImages} defective vs {detection.GoodImages} good images, by the image anomaly score)</p>\n"));
        }
        html.Append("<nav><a href=\"#clusters\">Clusters</a>");
        if (hasScores)
        {
            html.Append(" <a href=\"#anomaly-scores\">Anomaly scores</a>");
        }
        html.Append(" <a href=\"#dendrogram\">Dendrogram</a> <a href=\"#cluster-count\">Number of clusters</a>");
        if (totals.Metrics is not null)
        {
            html.Append(" <a href=\"#confusion\">Confusion matrix</a>");
        }
        html.Append(" <a href=\"#errors\">Errors</a> <a href=\"#options\">Options</a></nav>\n</header>\n");
    }

    /// <summary>
    /// The result's warnings, under the counts they qualify (a K smaller than the classes, a grid too small for the method):
    /// read before the clusters, not found at the bottom.
    /// </summary>
    private static void Warnings(StringBuilder html, IReadOnlyList<ResultWarning> warnings)
    {
        if (warnings.Count == 0)
        {
            return;
        }
        html.Append("<ul class=\"warnings\" id=\"warnings\">\n");
        foreach (var warning in warnings)
        {
            html.Append("<li data-code=\"").Append(Encode(warning.Code)).Append("\"><b>warning:</b> ").Append(Encode(warning.Message)).Append("</li>\n");
        }
        html.Append("</ul>\n");
    }

    private static void Toolbar(StringBuilder html, ClusteringResult result, ReportOptions options, bool hasScores)
    {
        html.Append("<div class=\"toolbar\">\n");
        if (result.PatchGridHeight > 0)
        {
            html.Append("<label><input type=\"checkbox\" id=\"show-heat\" checked> alpha heat maps</label>\n");
        }
        if (hasScores)
        {
            html.Append("<label>gallery order <select id=\"gallery-order\"><option value=\"typical\">most typical first</option>");
            html.Append("<option value=\"score\">highest anomaly score first</option></select></label>\n");
        }
        html.Append("<span class=\"names-tools\">Cluster names: <button type=\"button\" id=\"download-names\">Download names.json</button> ");
        html.Append("<button type=\"button\" id=\"copy-names\">Copy</button> <span id=\"names-status\" role=\"status\">");
        html.Append(options.ApiBaseUrl is not null && options.JobId is not null
            ? "names are saved to the job as you type them"
            : "names typed here stay in this page: download names.json and pass it with --names");
        html.Append("</span></span>\n");
        html.Append("<textarea id=\"names-json\" readonly rows=\"1\" aria-label=\"cluster names as JSON\">").Append(Encode(result.Names.ToJson())).Append("</textarea>\n");
        html.Append("</div>\n");
    }

    private static void Legend(StringBuilder html, ClusteringResult result)
    {
        if (result.PatchGridHeight <= 0)
        {
            return;
        }
        var stops = string.Join(", ", Enumerable.Range(0, 11).Select(s => InfernoColorMap.CssOf(s / 10f)));
        html.Append("<div class=\"legend\" id=\"heat-legend\">\n<span>lowest</span><span class=\"scale\" style=\"background: linear-gradient(to right, ")
            .Append(stops).Append(")\"></span><span>highest patch weight of the image</span>\n");
        html.Append(Invariant(
            $"<p>Heat map: the image's patch weights alpha ({result.PatchGridHeight} x {result.PatchGridWidth} patches, METHOD section 2), bilinearly upsampled to the thumbnail, scaled from the image's smallest (dark) to its largest (yellow) weight, blended at {AlphaHeatMap.Opacity:P0} over the part of the image the backbone saw. Click a thumbnail to switch it between heat map and image.</p>\n"));
        html.Append("</div>\n");
    }

    private static void Clusters(StringBuilder html, ClusteringResult result, ReportDigest totals, IReadOnlyList<ClusterGallery> galleries, int maxImagesPerCluster, bool served)
    {
        var sizes = SizesOf(totals);
        var ordered = galleries.Count > 0 && galleries.SelectMany(g => g.Entries.Take(1)).Any(e => !double.IsNaN(e.CentroidDistance));
        html.Append("<section id=\"clusters\">\n<h2>Clusters</h2>\n<p class=\"note\">")
            .Append(ordered
                ? Invariant($"Each gallery starts with the cluster's medoid (the image closest to all others in embedding space; for clusters of more than {GalleryOrder.ExactMedoidUpTo} images, the image closest to the centre), then the images closest to the cluster's centre.")
                : "This result has no image embeddings (written by an older version), so galleries are in dataset order and no medoid is marked.")
            .Append("</p>\n");
        if (galleries.Any(gallery => sizes.GetValueOrDefault(gallery.Cluster) > maxImagesPerCluster))
        {
            html.Append(served
                ? Invariant($"<p class=\"note\" id=\"gallery-limit\">This page holds the {maxImagesPerCluster} most typical images of each cluster (and, sorted by anomaly score, its {maxImagesPerCluster} most anomalous); paging on past them fetches the cluster's further images from the API, nearest to the centre first.</p>\n")
                : Invariant($"<p class=\"note\" id=\"gallery-limit\">Galleries show the {maxImagesPerCluster} most typical images of each cluster (and, sorted by anomaly score, its {maxImagesPerCluster} most anomalous); every image and its cluster is in images.parquet, and the API pages each cluster whole (GET /jobs/{{id}}/clusters/{{c}}/images).</p>\n"));
        }
        // Label counts per cluster, most frequent first: the same summary the CLI prints and result.json records.
        var summaryList = totals.Clusters;
        var summaries = summaryList.ToDictionary(summary => summary.Cluster);
        // In the CLI's order (largest first, ties by index), so the page and the console list the clusters alike.
        var rank = summaryList.Select((summary, index) => (summary.Cluster, index)).ToDictionary(pair => pair.Cluster, pair => pair.index);
        foreach (var gallery in galleries.OrderBy(gallery => rank.GetValueOrDefault(gallery.Cluster, int.MaxValue)).ThenBy(gallery => gallery.Cluster))
        {
            var c = gallery.Cluster;
            var size = sizes.GetValueOrDefault(gallery.Cluster);
            var name = result.Names.NameOf(c) ?? string.Empty;
            html.Append(Invariant($"<article class=\"cluster\" id=\"cluster-{c}\" data-cluster=\"{c}\" data-size=\"{size}\">\n<header>"));
            html.Append(Invariant($"<span class=\"swatch\" style=\"background:{ColorOf(c)}\"></span><h3>Cluster {c}"));
            html.Append(Invariant($"<span class=\"cluster-name\" data-name-of=\"{c}\">")).Append(Encode(name)).Append("</span></h3>");
            html.Append(Invariant($"<span class=\"size\">{size} images{(size > maxImagesPerCluster && !served ? $" ({maxImagesPerCluster} shown)" : "")}</span>"));
            if (totals.Metrics is not null && size > 0)
            {
                var labels = summaries[c].LabelCounts;
                html.Append(Invariant($"<span class=\"purity\" title=\"share of the most frequent label\">purity {(double)labels[0].Value / size:P0} ")).Append(Encode(labels[0].Key)).Append("</span>");
                html.Append("<span class=\"labels\">").Append(Encode(string.Join(", ", labels.Select(p => Invariant($"{p.Key} {p.Value}"))))).Append("</span>");
            }
            html.Append(Invariant($"<label class=\"name-editor\">name <input type=\"text\" class=\"name-input\" data-cluster=\"{c}\" maxlength=\"{ClusterNames.MaxNameLength}\" placeholder=\"e.g. crack\" value=\""))
                .Append(Encode(name)).Append(Invariant($"\"></label><span class=\"name-save\" data-save-of=\"{c}\"></span>"));
            html.Append("</header>\n");
            html.Append(Invariant($"<div class=\"gallery\" data-cluster=\"{c}\"></div>\n"));
            html.Append(Invariant($"<div class=\"pager\" data-cluster=\"{c}\"><button type=\"button\" class=\"prev\">‹ previous</button> <span class=\"page-info\"></span> <button type=\"button\" class=\"next\">next ›</button></div>\n"));
            html.Append("</article>\n");
        }
        html.Append("</section>\n");
    }

    /// <summary>True when every image has an anomaly score (the page then offers the score order and histogram).</summary>
    public static bool HasAnomalyScores(ClusteringResult result) =>
        result.Images.Count > 0 && result.Images.All(image => image.AnomalyScore is not null);

    /// <summary>Every cluster's size, by cluster index (from the totals: a digest's result holds only some images).</summary>
    private static Dictionary<int, int> SizesOf(ReportDigest totals) => totals.Clusters.ToDictionary(cluster => cluster.Cluster, cluster => cluster.Size);

    /// <summary>The score histogram of every image (its bins counted once, in the totals).</summary>
    private static void AnomalyScores(StringBuilder html, ClusteringResult result, ReportDigestHistogram histogram, int imageCount)
    {
        var labelled = histogram.Labelled;
        html.Append("<section id=\"anomaly-scores\">\n<h2>Anomaly scores</h2>\n<p class=\"note\">");
        html.Append(result.Options.Mode == ClusteringMode.SemiSupervised
            ? "Each image's anomaly score is the distance of its most anomalous patch to the nearest patch of the normal images (METHOD section 7b)."
            : "Each image's anomaly score is its largest patch score s_ik: the mean distance of its most anomalous patch to the nearest patch of the reference images (METHOD section 7b).");
        html.Append(labelled ? " Green: images labelled good; red: the others." : string.Empty);
        if (result.AnomalyThreshold is { } threshold)
        {
            html.Append(Invariant($" Dashed: the detection threshold {threshold:G4}, set from the normal images alone (the 0.99 quantile of their leave-one-out scores); {histogram.AboveThreshold} of {imageCount} images score above it."));
        }
        html.Append(" Choose \"highest anomaly score first\" above to sort every gallery by it.</p>\n");
        html.Append(AnomalyScoreHistogramSvg.Render(histogram.Good, histogram.Other, histogram.Min, histogram.Max, histogram.Labelled, result.AnomalyThreshold));
        html.Append("\n</section>\n");
    }

    private static void Dendrogram(StringBuilder html, ClusteringResult result, ReportDigestTree top, int maxLeaves)
    {
        html.Append("<section id=\"dendrogram\">\n<h2>Dendrogram</h2>\n");
        // From the tree's top only (the drawn merges are the last ones): the same drawing whatever N is.
        var layout = DendrogramLayout.Of(top, result.Options.DistanceThreshold is null ? result.ClusterCount : null, result.Options.DistanceThreshold, maxLeaves);
        var cutLabel = result.Options.DistanceThreshold is { } t ? Invariant($"cut at distance {t:G4}") : Invariant($"cut: K = {result.ClusterCount}");
        html.Append("<p class=\"note\">").Append(Encode(ClusteringOptionNames.Of(result.Options.Linkage))).Append(" linkage of the image embeddings; merges below the cut in their cluster's colour.");
        if (layout.IsTruncated)
        {
            html.Append(Invariant($" Only the last {layout.Leaves.Count - 1} merges are drawn; each leaf stands for a subtree (its size in the tooltip)."));
        }
        html.Append("</p>\n");
        html.Append(DendrogramSvg.Render(
            layout, ColorOf,
            leaf => leaf.Size == 1 && top.PointIds.TryGetValue(leaf.Node, out var id) ? id : Invariant($"{leaf.Size} images"),
            cutLabel));
        html.Append("\n</section>\n");
    }

    private static void Confusion(StringBuilder html, ClusteringResult result, ReportDigest totals)
    {
        if (totals.Metrics is not { } metrics)
        {
            return;
        }
        var classes = result.ClassNames;
        var counts = new int[result.ClusterCount, classes.Count];
        var classIndex = classes.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);
        foreach (var cluster in totals.Clusters)
        {
            foreach (var (label, count) in cluster.LabelCounts)
            {
                counts[cluster.Cluster, classIndex[label]] += count;
            }
        }
        // The Hungarian matching behind F1, by cluster.
        var matched = metrics.MatchedLabels;

        html.Append("<section id=\"confusion\">\n<h2>Confusion matrix</h2>\n<p class=\"note\">Images per cluster (rows) and label (columns); outlined: the label each cluster is matched to for F1 (Hungarian matching).</p>\n");
        html.Append("<table class=\"confusion\">\n<thead><tr><th>cluster</th>");
        foreach (var label in classes)
        {
            html.Append("<th>").Append(Encode(label)).Append("</th>");
        }
        html.Append("<th>size</th><th>purity</th><th>matched label</th></tr></thead>\n<tbody>\n");
        for (var c = 0; c < result.ClusterCount; c++)
        {
            var size = 0;
            var max = 0;
            for (var k = 0; k < classes.Count; k++)
            {
                size += counts[c, k];
                max = Math.Max(max, counts[c, k]);
            }
            html.Append(Invariant($"<tr data-cluster=\"{c}\"><th><span class=\"swatch\" style=\"background:{ColorOf(c)}\"></span>{c} <span class=\"cluster-name\" data-name-of=\"{c}\">"))
                .Append(Encode(result.Names.NameOf(c) ?? string.Empty)).Append("</span></th>");
            var matchedLabel = matched.GetValueOrDefault(c);
            for (var k = 0; k < classes.Count; k++)
            {
                var share = size == 0 ? 0 : (double)counts[c, k] / size;
                var isMatched = classes[k] == matchedLabel ? " class=\"matched\"" : string.Empty;
                html.Append(Invariant($"<td{isMatched} style=\"background: rgba(31, 119, 180, {share * 0.8:F2})\">{counts[c, k]}</td>"));
            }
            html.Append(Invariant($"<td>{size}</td><td>{(size == 0 ? 0 : (double)max / size):P0}</td><td>")).Append(Encode(matchedLabel ?? "-")).Append("</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void Errors(StringBuilder html, ReportDigest totals, int maxRows)
    {
        html.Append("<section id=\"errors\">\n<h2>Images left out</h2>\n");
        if (totals.ErrorCount == 0)
        {
            html.Append("<p class=\"note\">None: every image was decoded and clustered.</p>\n</section>\n");
            return;
        }
        html.Append("<table class=\"errors\">\n<thead><tr><th>image</th><th>set</th><th>reason</th><th>message</th></tr></thead>\n<tbody>\n");
        var shown = totals.Errors.Take(maxRows).ToList();
        foreach (var error in shown)
        {
            html.Append("<tr><td>").Append(Encode(error.Id)).Append("</td><td>").Append(error.IsNormalImage ? "normal images" : "images")
                .Append("</td><td>").Append(Encode(error.Reason)).Append("</td><td>").Append(Encode(error.Message)).Append("</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
        if (totals.ErrorCount > shown.Count)
        {
            html.Append(Invariant($"<p class=\"note\">and {totals.ErrorCount - shown.Count} more; errors.parquet lists all {totals.ErrorCount}.</p>\n"));
        }
        html.Append("</section>\n");
    }

    private static void Options(StringBuilder html, ClusteringResult result, ResultSource source)
    {
        var o = result.Options;
        var rows = new List<(string, string)>
        {
            ("source", source.Path),
            ("layout", source.Layout ?? "-"),
            ("normal images", source.NormalFolder ?? "-"),
            ("backbone", source.Backbone ?? "-"),
        };
        if (source.Preprocessing is { } p)
        {
            rows.Add(("preprocessing", p.ResizeMode == ImageResizeMode.Stretch
                ? Invariant($"whole image stretched to {p.CropWidth} x {p.CropHeight}")
                : Invariant($"shorter side {p.ResizeShorterSide}, centre crop {p.CropWidth} x {p.CropHeight}")));
        }
        rows.AddRange(
        [
            ("mode", ClusteringOptionNames.Of(o.Mode)),
            ("tau", o.Tau.ToString("G", CultureInfo.InvariantCulture)),
            ("clusters", o.DistanceThreshold is { } t ? Invariant($"cut at distance {t:G}")
                : result.ClusterCountChoice is { } found ? Invariant($"K = {found.ClusterCount}, found by {ClusteringOptionNames.Of(found.Criterion)} in {o.MinimumClusterCount}..{o.MaximumClusterCount}")
                : Invariant($"K = {o.ClusterCount ?? result.ClusterCount}")),
            ("linkage", ClusteringOptionNames.Of(o.Linkage)),
            ("reference images R", o.ReferenceCount == 0 ? "all (exact)" : o.ReferenceCount.ToString(CultureInfo.InvariantCulture)),
            ("normal image limit", o.NormalImageLimit == 0 ? "all" : o.NormalImageLimit.ToString(CultureInfo.InvariantCulture)),
            ("normal bank coreset", o.CoresetFraction == 0 ? "off (every normal patch)" : Invariant($"{o.CoresetFraction:G} of the normal patches")),
            ("detect, then cluster", DetectThenClusterText(result)),
            ("seed", o.Seed.ToString(CultureInfo.InvariantCulture)),
            ("P / T", Invariant($"{o.PretrainDimension} / {o.TargetDimension}")),
            ("patch size k", o.PatchSize.ToString(CultureInfo.InvariantCulture)),
            ("layer norm", o.LayerNorm ? "on" : "off"),
            ("embedding dimension", result.EmbeddingDimension.ToString(CultureInfo.InvariantCulture)),
        ]);
        foreach (var (name, count) in source.Excluded)
        {
            rows.Add(("left out by the protocol", Invariant($"{count} '{name}' images")));
        }
        foreach (var timing in result.Timings)
        {
            rows.Add(("time: " + timing.Stage, Invariant($"{timing.Elapsed.TotalSeconds:F2} s")));
        }
        html.Append("<section id=\"options\">\n<h2>Options used</h2>\n<table class=\"options\">\n<tbody>\n");
        foreach (var (name, value) in rows)
        {
            html.Append("<tr><th>").Append(Encode(name)).Append("</th><td>").Append(Encode(value)).Append("</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n</section>\n");
    }

    /// <summary>
    /// The JSON block the script reads: page size, API, names, the galleries (positions in <c>images</c>), the listed
    /// images with their addresses, and the merge tree while every image is listed (re-cutting per image needs them all), or
    /// else the digest's tree top with its branches' image and label counts (re-cutting the top needs only those).
    /// </summary>
    private static string Data(ClusteringResult result, ReportDigest totals, ReportSelection selection, IReadOnlyList<ThumbnailLinks?> thumbnails, ReportOptions options)
    {
        var sizes = SizesOf(totals);
        using var buffer = new MemoryStream();
        // The default encoder escapes '<', '>', '&' and quotes as \uXXXX, so no string can close the script element.
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("pageSize", options.PageSize);
            if (options.ApiBaseUrl is not null && options.JobId is not null)
            {
                json.WriteStartObject("api");
                json.WriteString("base", options.ApiBaseUrl);
                json.WriteString("jobId", options.JobId);
                // Whether the API has heat maps to give for images fetched page by page.
                json.WriteBoolean("heat", result.PatchGridHeight > 0 && result.PatchGridWidth > 0);
                json.WriteEndObject();
            }
            json.WritePropertyName("names");
            result.Names.WriteTo(json);
            if (selection.ListsEveryImage)
            {
                ClusterCountSection.WriteLinkage(json, result.MergeTree);
                if (result.LeafOfImage is { } leafOfImage)
                {
                    // A two-stage tree's leaves are micro-clusters: the script needs each image's leaf to re-cut per image.
                    json.WriteStartArray("leafOfImage");
                    foreach (var leaf in leafOfImage)
                    {
                        json.WriteNumberValue(leaf);
                    }
                    json.WriteEndArray();
                }
            }
            else if (ClusterCountSection.CanRecutTop(totals.Tree))
            {
                ClusterCountSection.WriteTreeTop(json, totals.Tree);
            }
            json.WriteStartArray("clusters");
            foreach (var gallery in selection.Galleries)
            {
                json.WriteStartObject();
                json.WriteNumber("index", gallery.Cluster);
                // All its images: a served page fetches those past "members" from the API's cluster pages.
                json.WriteNumber("size", sizes.GetValueOrDefault(gallery.Cluster));
                json.WriteString("color", ColorOf(gallery.Cluster));
                WritePositions(json, "members", selection.Typical[gallery.Cluster]);
                if (selection.ByScore is { } byScore)
                {
                    // The same cluster, most anomalous first (ties in gallery order): the page's "highest anomaly score first".
                    WritePositions(json, "byScore", byScore[gallery.Cluster]);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            var medoids = selection.Galleries.SelectMany(g => g.Entries.Take(1)).Where(e => e.IsMedoid).Select(e => e.ImageIndex).ToHashSet();
            var distances = new double[result.Images.Count];
            foreach (var entry in selection.Galleries.SelectMany(g => g.Entries))
            {
                distances[entry.ImageIndex] = entry.CentroidDistance;
            }
            json.WriteStartArray("images");
            foreach (var i in selection.Listed)
            {
                var image = result.Images[i];
                var links = thumbnails[i];
                json.WriteStartObject();
                json.WriteString("id", image.Id);
                json.WriteNumber("cluster", image.Cluster);
                if (image.Label is not null)
                {
                    json.WriteString("label", image.Label);
                }
                if (links?.Image is { } thumb)
                {
                    json.WriteString("thumb", thumb);
                }
                if (links?.Heat is { } heat)
                {
                    json.WriteString("heat", heat);
                }
                if (links?.Problem is { } problem)
                {
                    json.WriteString("problem", problem);
                }
                if (double.IsFinite(distances[i]))
                {
                    json.WriteNumber("distance", Math.Round(distances[i], 4));
                }
                if (image.AnomalyScore is { } anomalyScore)
                {
                    json.WriteNumber("score", anomalyScore);
                }
                if (medoids.Contains(i))
                {
                    json.WriteBoolean("medoid", true);
                }
                if (image.PatchWeights is { Length: > 0 } alpha)
                {
                    json.WriteNumber("maxAlpha", alpha.Max());
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WritePositions(Utf8JsonWriter json, string name, int[] positions)
    {
        json.WriteStartArray(name);
        foreach (var position in positions)
        {
            json.WriteNumberValue(position);
        }
        json.WriteEndArray();
    }

    private static string Asset(string name)
    {
        using var stream = typeof(ReportPage).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the report asset '{name}' is missing from {typeof(ReportPage).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The settings row of detect-then-cluster: off, the good group and its cluster, or why it was not applied.</summary>
    private static string DetectThenClusterText(ClusteringResult result) =>
        !result.Options.DetectThenCluster ? "off"
        : result.DetectedGood is { } good ? Invariant($"on: the {good.Images} images at or under the detection threshold {result.AnomalyThreshold:G4} are cluster {good.Cluster}; the others are clustered into the rest")
        : "asked for, not applied (see the algorithm's reason)";
}
