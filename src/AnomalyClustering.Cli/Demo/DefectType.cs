namespace AnomalyClustering.Cli.Demo;

/// <summary>The kinds of surface defect the synthetic product line paints; <see cref="Good"/> is the defect-free class.</summary>
internal enum DefectType
{
    /// <summary>No defect: brushed metal only.</summary>
    Good,

    /// <summary>A thin, long, bright line at a random angle (a tool mark).</summary>
    Scratch,

    /// <summary>A dark, soft-edged round stain.</summary>
    Stain,

    /// <summary>A dark, jagged, branching polyline.</summary>
    Crack,

    /// <summary>A small dark circle with a bright rim (a pit punched into the surface).</summary>
    Hole,

    /// <summary>An irregular rust-coloured patch (foreign material on the surface).</summary>
    Contamination,
}

/// <summary>Folder names of the defect types (MVTec style: lower case, <c>good</c> for defect-free).</summary>
internal static class DefectTypeNames
{
    /// <summary>The folder name of a defect type.</summary>
    public static string FolderName(this DefectType type) => type switch
    {
        DefectType.Good => "good",
        DefectType.Scratch => "scratch",
        DefectType.Stain => "stain",
        DefectType.Crack => "crack",
        DefectType.Hole => "hole",
        DefectType.Contamination => "contamination",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown defect type"),
    };
}
