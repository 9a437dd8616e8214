using System.Globalization;
using System.Net;
using System.Text;
using AnomalyClustering.Grains.Lines;

namespace AnomalyClustering.Cli.Lines;

/// <summary>A decided image as the report shows it: its decision, and its thumbnail and heat map as JPEG bytes (null when the line does not hold the image).</summary>
internal sealed record LineReportImage(LineDecision Decision, byte[]? Thumbnail, byte[]? Heat);

/// <summary>What a line report shows.</summary>
/// <param name="Line">The line.</param>
/// <param name="Since">The window's start.</param>
/// <param name="Until">The window's end (when the report was made).</param>
/// <param name="Decisions">Every decision of the window, in log order.</param>
/// <param name="NewestByType">Per defect type (assigned or ambiguous decisions), its newest images, newest first.</param>
/// <param name="NovelPool">The newest novel decisions of the window, newest first.</param>
internal sealed record LineReportModel(
    string Line,
    DateTimeOffset Since,
    DateTimeOffset Until,
    IReadOnlyList<LineDecision> Decisions,
    IReadOnlyDictionary<string, IReadOnlyList<LineReportImage>> NewestByType,
    IReadOnlyList<LineReportImage> NovelPool);

/// <summary>
/// The HTML of <c>line report</c>: one self-contained page without script (nothing to allow in a Content-Security-Policy but
/// inline styles and data: images): counts per defect type over time as an inline SVG stacked bar chart, a table of counts,
/// the newest images of each type with their heat maps, and the novel pool. Every text from the log is HTML-encoded.
/// O(decisions + buckets x series) to render.
/// </summary>
internal static class LineReportPage
{
    /// <summary>Series colours (matplotlib's tab10); novel is grey and error red, outside the palette's order.</summary>
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78"];

    private const string NovelColour = "#7f7f7f";
    private const string ErrorColour = "#d62728";
    private const int ChartWidth = 960;
    private const int ChartHeight = 260;
    private const int AxisLeft = 48;
    private const int AxisBottom = 36;

    /// <summary>The page.</summary>
    public static string Render(LineReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var invariant = CultureInfo.InvariantCulture;
        var series = SeriesOf(model.Decisions);
        var html = new StringBuilder(64 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<meta name=\"generator\" content=\"anomaly-cluster line report\">\n<link rel=\"icon\" href=\"data:,\">\n");
        html.Append("<title>Line ").Append(Encode(model.Line)).Append("</title>\n<style>\n").Append(Stylesheet).Append("</style>\n</head>\n");
        // No script: the page is ready when it has loaded (the browser tests wait for this attribute).
        html.Append("<body data-ready=\"true\">\n");
        html.Append("<h1>Line ").Append(Encode(model.Line)).Append("</h1>\n");
        var defective = model.Decisions.Count(d => d.Defective == true);
        var scored = model.Decisions.Count(d => d.Defective is not null);
        html.Append(string.Create(invariant, $"<p class=\"summary\" id=\"summary\"><span id=\"decision-count\">{model.Decisions.Count}</span> decisions from {Encode(model.Since.UtcDateTime.ToString("yyyy-MM-dd HH:mm", invariant))} to {Encode(model.Until.UtcDateTime.ToString("yyyy-MM-dd HH:mm", invariant))} UTC"));
        html.Append(scored > 0 ? string.Create(invariant, $"; {defective} of {scored} scored images defective ({100.0 * defective / scored:F1} %)") : "").Append(".</p>\n");

        html.Append("<section id=\"counts\">\n<h2>Decisions per defect type over time</h2>\n");
        Chart(html, model, series);
        CountsTable(html, model.Decisions, series);
        html.Append("</section>\n");

        html.Append("<section id=\"types\">\n<h2>Newest images of each type</h2>\n");
        if (model.NewestByType.Count == 0)
        {
            html.Append("<p class=\"empty\">No image was assigned to a defect type in this window.</p>\n");
        }
        foreach (var (type, images) in model.NewestByType.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            html.Append("<div class=\"type\" data-type=\"").Append(Encode(type)).Append("\">\n<h3><span class=\"swatch\" style=\"background:")
                .Append(series.FirstOrDefault(s => s.Name == type)?.Colour ?? NovelColour).Append("\"></span>").Append(Encode(type)).Append("</h3>\n");
            Gallery(html, images);
            html.Append("</div>\n");
        }
        html.Append("</section>\n");

        var novelCount = model.Decisions.Count(d => d.Outcome == LineDecision.Novel);
        html.Append("<section id=\"novel\" data-novel-count=\"").Append(novelCount.ToString(invariant)).Append("\">\n<h2>Novel pool</h2>\n");
        html.Append(string.Create(invariant, $"<p>{novelCount} images in this window are of no known type (farther from every defect type than its acceptance radius)"))
            .Append(novelCount > model.NovelPool.Count ? string.Create(invariant, $"; the newest {model.NovelPool.Count} are shown") : "")
            .Append(". <code>line recluster</code> proposes new types from them.</p>\n");
        Gallery(html, model.NovelPool);
        html.Append("</section>\n");

        var errors = model.Decisions.Where(d => d.Error is not null).ToList();
        if (errors.Count > 0)
        {
            html.Append("<section id=\"errors\">\n<h2>Images that could not be decided</h2>\n<table>\n<tr><th>file</th><th>reason</th><th>message</th></tr>\n");
            foreach (var error in errors.TakeLast(50))
            {
                html.Append("<tr><td>").Append(Encode(error.FileName ?? error.ImageId)).Append("</td><td>").Append(Encode(error.Error!.Reason))
                    .Append("</td><td>").Append(Encode(error.Error.Message)).Append("</td></tr>\n");
            }
            html.Append("</table>\n</section>\n");
        }
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>One chart series: a defect type (by count, largest first), then novel, then error.</summary>
    private sealed record Series(string Name, string Colour, int Count);

    private static List<Series> SeriesOf(IReadOnlyList<LineDecision> decisions)
    {
        var types = decisions.Where(d => d.Outcome is "assigned" or "ambiguous").GroupBy(d => d.Decision, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Count: g.Count())).OrderByDescending(t => t.Count).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        var series = types.Select((t, i) => new Series(t.Name, Palette[i % Palette.Length], t.Count)).ToList();
        series.Add(new Series(LineDecision.Novel, NovelColour, decisions.Count(d => d.Outcome == LineDecision.Novel)));
        series.Add(new Series(LineDecision.ErrorDecision, ErrorColour, decisions.Count(d => d.Error is not null)));
        return series;
    }

    private static string SeriesOf(LineDecision decision) =>
        decision.Error is not null ? LineDecision.ErrorDecision : decision.Outcome == LineDecision.Novel ? LineDecision.Novel : decision.Decision;

    /// <summary>Stacked bars per time bucket (an hour up to 3 days, else a day); each bar segment carries its counts as data attributes.</summary>
    private static void Chart(StringBuilder html, LineReportModel model, List<Series> series)
    {
        var invariant = CultureInfo.InvariantCulture;
        var bucket = model.Until - model.Since <= TimeSpan.FromDays(3) ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var first = Floor(model.Since.UtcDateTime, bucket);
        var buckets = (int)Math.Ceiling((model.Until.UtcDateTime - first) / bucket);
        buckets = Math.Max(buckets, 1);
        var counts = new int[buckets, series.Count];
        var index = series.Select((s, i) => (s.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        foreach (var decision in model.Decisions)
        {
            var b = Math.Clamp((int)((decision.DecidedAt.UtcDateTime - first) / bucket), 0, buckets - 1);
            counts[b, index[SeriesOf(decision)]]++;
        }
        var highest = 1;
        for (var b = 0; b < buckets; b++)
        {
            var total = 0;
            for (var s = 0; s < series.Count; s++)
            {
                total += counts[b, s];
            }
            highest = Math.Max(highest, total);
        }
        var plotWidth = ChartWidth - AxisLeft - 8;
        var plotHeight = ChartHeight - AxisBottom - 8;
        var barWidth = (double)plotWidth / buckets;
        html.Append(string.Create(invariant, $"<svg id=\"chart\" role=\"img\" aria-label=\"decisions per defect type over time\" viewBox=\"0 0 {ChartWidth} {ChartHeight}\" width=\"{ChartWidth}\" height=\"{ChartHeight}\" xmlns=\"http://www.w3.org/2000/svg\" data-buckets=\"{buckets}\" data-bucket-hours=\"{bucket.TotalHours}\">\n"));
        html.Append(string.Create(invariant, $"<line x1=\"{AxisLeft}\" y1=\"{8 + plotHeight}\" x2=\"{ChartWidth - 8}\" y2=\"{8 + plotHeight}\" stroke=\"#444\"/>\n<line x1=\"{AxisLeft}\" y1=\"8\" x2=\"{AxisLeft}\" y2=\"{8 + plotHeight}\" stroke=\"#444\"/>\n"));
        html.Append(string.Create(invariant, $"<text x=\"{AxisLeft - 6}\" y=\"14\" text-anchor=\"end\" class=\"axis\">{highest}</text>\n<text x=\"{AxisLeft - 6}\" y=\"{8 + plotHeight}\" text-anchor=\"end\" class=\"axis\">0</text>\n"));
        var labelEvery = Math.Max(1, buckets / 8);
        for (var b = 0; b < buckets; b++)
        {
            var x = AxisLeft + b * barWidth;
            var start = first + b * bucket;
            var y = 8.0 + plotHeight;
            for (var s = 0; s < series.Count; s++)
            {
                if (counts[b, s] == 0)
                {
                    continue;
                }
                var height = plotHeight * counts[b, s] / (double)highest;
                y -= height;
                html.Append(string.Create(invariant,
                    $"<rect class=\"bar\" x=\"{x + 1:F1}\" y=\"{y:F1}\" width=\"{Math.Max(barWidth - 2, 1):F1}\" height=\"{height:F1}\" fill=\"{series[s].Colour}\" data-series=\"{Encode(series[s].Name)}\" data-count=\"{counts[b, s]}\" data-start=\"{start:yyyy-MM-ddTHH:mm}Z\"><title>{Encode(series[s].Name)}: {counts[b, s]} from {start:yyyy-MM-dd HH:mm} UTC</title></rect>\n"));
            }
            if (b % labelEvery == 0)
            {
                var label = bucket.TotalHours < 24 ? start.ToString("dd HH:mm", invariant) : start.ToString("MM-dd", invariant);
                html.Append(string.Create(invariant, $"<text x=\"{x + barWidth / 2:F1}\" y=\"{ChartHeight - 14}\" text-anchor=\"middle\" class=\"axis\">{label}</text>\n"));
            }
        }
        html.Append("</svg>\n<ul class=\"legend\">\n");
        foreach (var s in series.Where(s => s.Count > 0))
        {
            html.Append("<li><span class=\"swatch\" style=\"background:").Append(s.Colour).Append("\"></span>").Append(Encode(s.Name)).Append("</li>\n");
        }
        html.Append("</ul>\n");
    }

    private static void CountsTable(StringBuilder html, IReadOnlyList<LineDecision> decisions, List<Series> series)
    {
        var invariant = CultureInfo.InvariantCulture;
        html.Append("<table id=\"count-table\">\n<tr><th>decision</th><th>images</th><th>share</th></tr>\n");
        foreach (var s in series)
        {
            html.Append("<tr data-series=\"").Append(Encode(s.Name)).Append("\"><td>").Append(Encode(s.Name)).Append("</td><td class=\"count\">")
                .Append(s.Count.ToString(invariant)).Append("</td><td>")
                .Append(decisions.Count == 0 ? "-" : (100.0 * s.Count / decisions.Count).ToString("F1", invariant) + " %").Append("</td></tr>\n");
        }
        html.Append("</table>\n");
    }

    private static void Gallery(StringBuilder html, IReadOnlyList<LineReportImage> images)
    {
        var invariant = CultureInfo.InvariantCulture;
        html.Append("<div class=\"gallery\">\n");
        foreach (var image in images)
        {
            var d = image.Decision;
            html.Append("<figure data-image-id=\"").Append(Encode(d.ImageId)).Append("\">");
            if (image.Thumbnail is { } thumbnail)
            {
                html.Append("<img class=\"thumb\" alt=\"").Append(Encode(d.FileName ?? d.ImageId)).Append("\" src=\"data:image/jpeg;base64,").Append(Convert.ToBase64String(thumbnail)).Append("\">");
            }
            else
            {
                html.Append("<div class=\"missing\">image not in the line's store</div>");
            }
            if (image.Heat is { } heat)
            {
                html.Append("<img class=\"heat\" alt=\"heat map of ").Append(Encode(d.FileName ?? d.ImageId)).Append("\" src=\"data:image/jpeg;base64,").Append(Convert.ToBase64String(heat)).Append("\">");
            }
            html.Append("<figcaption>").Append(Encode(d.FileName ?? d.ImageId)).Append("<br>")
                .Append(Encode(d.DecidedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", invariant))).Append(" UTC, v").Append(d.CatalogVersion.ToString(invariant))
                .Append("<br>nearest ").Append(Encode(d.Nearest))
                .Append(d.NoveltyScore is { } novelty ? ", novelty " + novelty.ToString("F2", invariant) : "")
                .Append(d.AnomalyScore is { } score ? ", score " + score.ToString("G4", invariant) : "")
                .Append("</figcaption></figure>\n");
        }
        html.Append("</div>\n");
    }

    private static DateTime Floor(DateTime utc, TimeSpan bucket) =>
        bucket >= TimeSpan.FromDays(1) ? utc.Date : new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private const string Stylesheet = """
        body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
        h1 { margin-bottom: 0.2rem; }
        .summary { color: #555; }
        .axis { font-size: 11px; fill: #555; }
        .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
        .swatch { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.35rem; vertical-align: middle; }
        table { border-collapse: collapse; margin: 0.8rem 0; }
        th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: left; }
        .gallery { display: flex; flex-wrap: wrap; gap: 0.8rem; }
        figure { margin: 0; width: 272px; font-size: 12px; }
        figure img { width: 132px; height: auto; vertical-align: top; }
        .missing { width: 132px; height: 132px; background: #eee; color: #777; display: inline-flex; align-items: center; text-align: center; }
        .empty { color: #777; }

        """;
}
