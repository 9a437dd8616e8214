namespace AnomalyClustering.Embedding.Datasets;

/// <summary>How a folder of images is organised, which decides where labels and normal images come from.</summary>
public enum ImageFolderLayout
{
    /// <summary>MVTec AD: <c>test/&lt;class&gt;/*.png</c> (labels from class folders) and optionally <c>train/good/</c> (normal images).</summary>
    Mvtec,

    /// <summary>One sub-folder per class: <c>&lt;class&gt;/*.png</c>; the folder names are the labels.</summary>
    ClassFolders,

    /// <summary>Images directly in the folder; no labels.</summary>
    Flat,
}

/// <summary>Human-readable names of the layouts, as the CLI and the API report them.</summary>
public static class ImageFolderLayoutNames
{
    /// <summary>A short description of the layout for the console.</summary>
    public static string Describe(this ImageFolderLayout layout) => layout switch
    {
        ImageFolderLayout.Mvtec => "MVTec (test/<class>/, train/good/)",
        ImageFolderLayout.ClassFolders => "class folders (<class>/, labels from folder names)",
        ImageFolderLayout.Flat => "flat (images in one folder, no labels)",
        _ => layout.ToString(),
    };

    /// <summary>The name written to result.json.</summary>
    public static string JsonName(this ImageFolderLayout layout) => layout switch
    {
        ImageFolderLayout.Mvtec => "mvtec",
        ImageFolderLayout.ClassFolders => "class-folders",
        ImageFolderLayout.Flat => "flat",
        _ => layout.ToString(),
    };
}
