namespace AnomalyClustering.Jobs;

/// <summary>Something a finished job did differently from what was asked, that its numbers alone do not show.</summary>
/// <param name="Code">Stable and machine-readable (<see cref="ResultWarnings.ClassWithoutImagesCode"/>, <see cref="ResultWarnings.SmallPatchGridCode"/>, ...).</param>
/// <param name="Message">What happened and what to do about it, for a person.</param>
public sealed record ResultWarning(string Code, string Message);

/// <summary>
/// The warnings of a finished image job: results that look normal but are not what was asked for. Computed where the job
/// clusters (its coordinator, embedded or in a cluster), kept in the result (result.json's <c>warnings</c>) and shown by
/// the API, the report and the CLI.
/// </summary>
public static class ResultWarnings
{
    /// <summary>A label class none of whose images could be used: K from the labels is smaller, or the scores leave it out.</summary>
    public const string ClassWithoutImagesCode = "class-without-images";

    /// <summary>A patch grid too small for the method (one patch, or fewer patches a side than the patch size).</summary>
    public const string SmallPatchGridCode = "small-patch-grid";

    /// <summary>The dataset's ground-truth masks could not be used for pixel metrics (some missing or unreadable).</summary>
    public const string MaskUnusableCode = "mask-unusable";

    /// <summary>
    /// The classes of <paramref name="classNames"/> (every class the job was given) that no clustered image of
    /// <paramref name="result"/> has, in the order given; empty without labels.
    /// </summary>
    public static IReadOnlyList<string> ClassesWithoutImages(ClusteringResult result, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0)
        {
            return [];
        }
        var clustered = result.Images.Select(image => image.Label).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return classNames.Where(name => !clustered.Contains(name)).ToArray();
    }

    /// <summary>
    /// The classes none of whose images could be used (all unreadable or corrupt), each with its number of files, out of
    /// <paramref name="classCount"/> classes given; null when there are none. K taken from the labels is the number of
    /// classes among the clustered images, so each such class takes a cluster away: said with both numbers, or, with K
    /// given (<paramref name="requested"/>: the options as given, before K was resolved), that the scores leave the class out.
    /// </summary>
    public static ResultWarning? ClassWithoutImages(
        ClusteringResult result, int classCount, IReadOnlyList<(string Name, int Files)> missing, ClusteringJobOptions requested)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(missing);
        ArgumentNullException.ThrowIfNull(requested);
        if (missing.Count == 0)
        {
            return null;
        }
        var named = string.Join(", ", missing.Select(m => $"'{m.Name}' ({m.Files} file{(m.Files == 1 ? "" : "s")})"));
        var what = missing.Count == 1 ? $"class {named} has no image that could be used" : $"classes {named} have no image that could be used";
        var kFromClasses = requested.ClusterCount is null && requested.DistanceThreshold is null && !EmbeddingClustering.FindsClusterCount(requested, hasLabels: true);
        return new ResultWarning(ClassWithoutImagesCode, kFromClasses
            ? $"{what} (every file is left out, listed below), so K, the number of classes with an image, is {result.ClusterCount} instead of {classCount}; -k {classCount} keeps {classCount} clusters."
            : $"{what} (every file is left out, listed below); the scores are over the other {classCount - missing.Count} classes.");
    }

    /// <summary>
    /// A patch grid too small for the method: one patch (nothing for the anomaly weights to choose between, so each image is
    /// clustered on one global feature and its heat map means nothing), or fewer rows or columns than the k x k
    /// neighbourhood each patch aggregates (most of it is zero padding). The grid is the backbone's first feature map, so
    /// it follows the input side (--crop; 224 by default gives the built-in backbone 28 x 28). A warning, not an error:
    /// the clustering is still defined, and a model may be meant for small inputs; the grid is known once an image is
    /// embedded. <paramref name="preprocessing"/>: how images became the backbone's input (null: unknown).
    /// </summary>
    public static ResultWarning? SmallPatchGrid(ClusteringResult result, PreprocessingOptions? preprocessing)
    {
        ArgumentNullException.ThrowIfNull(result);
        int height = result.PatchGridHeight, width = result.PatchGridWidth, k = result.Options.PatchSize;
        // No grid: precomputed embeddings, or no image embedded.
        if (height == 0 || width == 0 || (height * width > 1 && Math.Min(height, width) >= k))
        {
            return null;
        }
        var input = preprocessing is null ? "the backbone input"
            : preprocessing.CropWidth == preprocessing.CropHeight ? $"--crop {preprocessing.CropWidth} (a {preprocessing.CropWidth}x{preprocessing.CropHeight}-pixel backbone input)"
            : $"the {preprocessing.CropWidth}x{preprocessing.CropHeight}-pixel backbone input (--crop)";
        var why = height * width == 1
            ? "one patch per image, so the anomaly weights have nothing to choose between: each image is clustered on one global feature and its heat map means nothing"
            : $"fewer patches a side than the {k}x{k} neighbourhood each patch aggregates (--patch-size {k}), so most of every neighbourhood is padding";
        return new ResultWarning(SmallPatchGridCode,
            $"{input} leads to a {height}x{width} patch grid: {why}. A larger --crop gives a larger grid (the built-in backbone's is the input side / 8).");
    }

    /// <summary>
    /// <paramref name="warnings"/> with those of <paramref name="code"/> replaced by <paramref name="replacement"/> (null:
    /// removed), in place of the first one replaced or else at the end.
    /// </summary>
    public static IReadOnlyList<ResultWarning> Replace(IReadOnlyList<ResultWarning> warnings, string code, ResultWarning? replacement)
    {
        ArgumentNullException.ThrowIfNull(warnings);
        var replaced = new List<ResultWarning>(warnings.Count + 1);
        var placed = replacement is null;
        foreach (var warning in warnings)
        {
            if (warning.Code != code)
            {
                replaced.Add(warning);
            }
            else if (!placed)
            {
                replaced.Add(replacement!);
                placed = true;
            }
        }
        if (!placed)
        {
            replaced.Add(replacement!);
        }
        return replaced;
    }
}
