using AnomalyClustering.Cli.Datasets;

namespace AnomalyClustering.Cli.Tests;

public sealed class ImageFolderDiscoveryTests
{
    private static readonly byte[] NotReallyAnImage = [1, 2, 3];

    [Fact]
    public void MvtecLayoutTakesLabelsFromTestFoldersAndNormalsFromTrainGood()
    {
        using var folder = new TempFolder();
        folder.Write(NotReallyAnImage, "test", "good", "000.png");
        folder.Write(NotReallyAnImage, "test", "good", "001.png");
        folder.Write(NotReallyAnImage, "test", "crack", "000.png");
        folder.Write(NotReallyAnImage, "test", "combined", "000.png");
        folder.Write(NotReallyAnImage, "train", "good", "000.png");
        folder.Write(NotReallyAnImage, "ground_truth", "crack", "000_mask.png");
        folder.WriteText("notes", "test", "crack", "readme.txt");

        var found = ImageFolderDiscovery.Discover(folder.Path);

        Assert.Equal(ImageFolderLayout.Mvtec, found.Layout);
        // readme.txt is listed with the images of its class folder; the job leaves it out with the decoder's reason.
        Assert.Equal(["test/crack/000.png", "test/crack/readme.txt", "test/good/000.png", "test/good/001.png"], found.Dataset.Images.Select(i => i.Id));
        Assert.Equal(["crack", "crack", "good", "good"], found.Dataset.Images.Select(i => i.Label));
        Assert.True(found.Dataset.HasLabels);
        Assert.Equal(["crack", "good"], found.Dataset.ClassNames);
        Assert.Equal(["train/good/000.png"], found.Dataset.NormalImages.Select(i => i.Id));
        Assert.Equal(folder.Combine("train", "good"), found.NormalFolder);
        Assert.Equal(1, found.ExcludedImages["combined"]);
    }

    [Fact]
    public void ClassFoldersTakeLabelsFromFolderNames()
    {
        using var folder = new TempFolder();
        folder.Write(NotReallyAnImage, "scratch", "a.jpg");
        folder.Write(NotReallyAnImage, "scratch", "b.JPEG");
        folder.Write(NotReallyAnImage, "stain", "c.png");
        Directory.CreateDirectory(folder.Combine("empty"));

        var found = ImageFolderDiscovery.Discover(folder.Path);

        Assert.Equal(ImageFolderLayout.ClassFolders, found.Layout);
        Assert.Equal(["scratch/a.jpg", "scratch/b.JPEG", "stain/c.png"], found.Dataset.Images.Select(i => i.Id));
        Assert.Equal(["scratch", "scratch", "stain"], found.Dataset.Images.Select(i => i.Label));
        Assert.Empty(found.Dataset.NormalImages);
        Assert.Null(found.NormalFolder);
    }

    [Fact]
    public void FlatFolderHasNoLabels()
    {
        using var folder = new TempFolder();
        folder.Write(NotReallyAnImage, "b.png");
        folder.Write(NotReallyAnImage, "a.bmp");
        folder.Write(NotReallyAnImage, ".hidden.png");
        folder.WriteText("x", "list.csv");
        folder.Write(NotReallyAnImage, "sub", "ignored.png");

        var found = ImageFolderDiscovery.Discover(folder.Path);

        Assert.Equal(ImageFolderLayout.Flat, found.Layout);
        // list.csv lies where the images are: listed, so that the job leaves it out with its reason rather than in silence.
        Assert.Equal(["a.bmp", "b.png", "list.csv"], found.Dataset.Images.Select(i => i.Id));
        Assert.False(found.Dataset.HasLabels);
        Assert.All(found.Dataset.Images, image => Assert.Null(image.Label));
    }

    [Fact]
    public void ExplicitNormalFolderOverridesTrainGood()
    {
        using var folder = new TempFolder();
        folder.Write(NotReallyAnImage, "data", "x.png");
        folder.Write(NotReallyAnImage, "normals", "n1.png");
        folder.Write(NotReallyAnImage, "normals", "n2.png");

        var found = ImageFolderDiscovery.Discover(folder.Combine("data"), folder.Combine("normals"));

        Assert.Equal(2, found.Dataset.NormalImages.Count);
        Assert.All(found.Dataset.NormalImages, image => Assert.True(Path.IsPathRooted(image.Id)));
    }

    [Fact]
    public void MissingFolderIsAnInputError()
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<CliInputException>(() => ImageFolderDiscovery.Discover(folder.Combine("nope")));
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public void FolderWithoutImagesIsAnInputError()
    {
        using var folder = new TempFolder();
        folder.WriteText("x", "readme.txt");
        Directory.CreateDirectory(folder.Combine("empty-class"));
        var error = Assert.Throws<CliInputException>(() => ImageFolderDiscovery.Discover(folder.Path));
        Assert.Contains("no images found", error.Message);
    }

    [Fact]
    public void MvtecWithEmptyTestFoldersIsAnInputError()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Combine("test", "good"));
        var error = Assert.Throws<CliInputException>(() => ImageFolderDiscovery.Discover(folder.Path));
        Assert.Contains("MVTec", error.Message);
    }

    [Fact]
    public void MissingNormalFolderIsAnInputError()
    {
        using var folder = new TempFolder();
        folder.Write(NotReallyAnImage, "a.png");
        var error = Assert.Throws<CliInputException>(() => ImageFolderDiscovery.Discover(folder.Path, folder.Combine("normals")));
        Assert.Contains("normal images folder", error.Message);
    }
}
