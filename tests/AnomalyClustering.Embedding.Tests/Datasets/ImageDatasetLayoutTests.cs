using AnomalyClustering.Embedding.Datasets;

namespace AnomalyClustering.Embedding.Tests.Datasets;

/// <summary>Layout detection over relative paths, as the HTTP API runs it on blob names (the CLI's folder tests cover disks).</summary>
public sealed class ImageDatasetLayoutTests
{
    [Fact]
    public void MvtecPathsGiveLabelsNormalImagesAndTheCombinedExclusion()
    {
        var found = ImageDatasetLayout.Detect(
        [
            "train/good/001.png", "test/good/000.png", "test/crack/001.PNG", "test/crack/000.png", "test/combined/000.png",
            "test/combined/001.png", "ground_truth/crack/000_mask.png", "test/crack/readme.txt", "test/.cache/x.png", "license.txt",
        ]);

        Assert.Equal(ImageFolderLayout.Mvtec, found.Layout);
        // readme.txt lies in a class folder: listed, so that the job leaves it out with its reason rather than in silence.
        Assert.Equal(["test/crack/000.png", "test/crack/001.PNG", "test/crack/readme.txt", "test/good/000.png"], found.Images.Select(i => i.RelativePath));
        Assert.Equal(["crack", "crack", "crack", "good"], found.Images.Select(i => i.Label));
        Assert.True(found.HasImageFiles);
        Assert.Equal(["train/good/001.png"], found.TrainGoodImages);
        Assert.Equal(2, found.ExcludedImages["combined"]);
    }

    [Fact]
    public void ClassFoldersAreOrderedByClassNameThenFileName()
    {
        // Ordinal order of whole paths would put "crack-2/" before "crack/" ('-' < '/'); folders come first, as on disk.
        var found = ImageDatasetLayout.Detect(["crack-2/a.png", "crack/b.png", "crack/a.jpeg", ".hidden/c.png", "crack/.d.png", "deep/er/e.png"]);

        Assert.Equal(ImageFolderLayout.ClassFolders, found.Layout);
        Assert.Equal(["crack/a.jpeg", "crack/b.png", "crack-2/a.png"], found.Images.Select(i => i.RelativePath));
        Assert.Equal(["crack", "crack", "crack-2"], found.Images.Select(i => i.Label));
        Assert.Null(found.TrainGoodImages);
    }

    [Fact]
    public void ImagesAtTheRootMakeAFlatUnlabelledDataset()
    {
        var found = ImageDatasetLayout.Detect(["b.webp", "a.bmp", "sub/c.png", "notes.md", ".e.png"]);

        Assert.Equal(ImageFolderLayout.Flat, found.Layout);
        Assert.Equal(["a.bmp", "b.webp", "notes.md"], found.Images.Select(i => i.RelativePath));
        Assert.All(found.Images, image => Assert.Null(image.Label));
    }

    [Fact]
    public void EmptyFoldersCountOnlyWhenTheStoreHasThem()
    {
        // A disk's empty test/good/ makes an (empty) MVTec layout; blob names cannot hold empty folders.
        Assert.Equal(ImageFolderLayout.Mvtec, ImageDatasetLayout.Detect([], ["test", "test/good"]).Layout);
        Assert.Empty(ImageDatasetLayout.Detect([], ["test", "test/good"]).Images);
        var emptyTrainGood = ImageDatasetLayout.Detect(["test/good/0.png"], ["train/good"]);
        Assert.NotNull(emptyTrainGood.TrainGoodImages);
        Assert.Empty(emptyTrainGood.TrainGoodImages);
    }

    [Theory]
    [InlineData("a.png", true)]
    [InlineData("A.JPG", true)]
    [InlineData("scan.tiff", true)]
    [InlineData("scan.TIF", true)]
    [InlineData("scan.psd", false)]
    [InlineData(".png", false)]
    [InlineData(".hidden.png", false)]
    [InlineData("png", false)]
    public void ImageFileNamesAreKnownExtensionsAndNotHidden(string name, bool isImage) =>
        Assert.Equal(isImage, ImageDatasetLayout.IsImageFileName(name));

    [Fact]
    public void ImagesAtRootSkipsFoldersAndOtherFiles() =>
        Assert.Equal(["a.png", "b.gif"], ImageDatasetLayout.ImagesAtRoot(["b.gif", "x/a.png", "a.png", "c.txt"]));

    [Fact]
    public void FilesWithoutAnImageExtensionDoNotMakeADataset()
    {
        // Listed where images are expected, but a folder of them alone has no images.
        var found = ImageDatasetLayout.Detect(["notes.txt", "scan.psd"]);
        Assert.Equal(ImageFolderLayout.ClassFolders, found.Layout);
        Assert.False(found.HasImageFiles);
        var classes = ImageDatasetLayout.Detect(["crack/notes.txt"]);
        Assert.Equal(["crack/notes.txt"], classes.Images.Select(i => i.RelativePath));
        Assert.False(classes.HasImageFiles);
    }

    [Fact]
    public void AClassFolderWithoutImagesIsNoClass()
    {
        // docs/ beside the classes holds no image: it is not a class of failed images; a class's own stray file still is listed.
        var found = ImageDatasetLayout.Detect(["docs/README.md", "docs/notes.txt", "crack/a.png", "crack/notes.txt", "good/b.jpg"]);

        Assert.Equal(ImageFolderLayout.ClassFolders, found.Layout);
        Assert.Equal(["crack/a.png", "crack/notes.txt", "good/b.jpg"], found.Images.Select(i => i.RelativePath));
        Assert.Equal(["crack", "crack", "good"], found.Images.Select(i => i.Label));

        var mvtec = ImageDatasetLayout.Detect(["test/good/0.png", "test/docs/README.md", "test/combined/readme.txt"]);
        Assert.Equal(ImageFolderLayout.Mvtec, mvtec.Layout);
        Assert.Equal(["test/good/0.png"], mvtec.Images.Select(i => i.RelativePath));
        Assert.Empty(mvtec.ExcludedImages);
    }

    [Fact]
    public void OnlyImagesOfTrainGoodAreNormalImages()
    {
        // Non-images in train/good/ would take normal-image slots; they are no normal images.
        var found = ImageDatasetLayout.Detect(["train/good/b.png", "train/good/Thumbs.db", "train/good/a.tif", "train/good/notes.txt", "test/good/0.png"]);

        Assert.Equal(["train/good/a.tif", "train/good/b.png"], found.TrainGoodImages);
        var noImages = ImageDatasetLayout.Detect(["train/good/notes.txt", "test/good/0.png"]);
        Assert.NotNull(noImages.TrainGoodImages);
        Assert.Empty(noImages.TrainGoodImages);
    }

    [Fact]
    public void AnyImageFileLooksAtTheLeafName()
    {
        Assert.True(ImageDatasetLayout.AnyImageFile(["docs/README.md", "crack/a.PNG"]));
        Assert.False(ImageDatasetLayout.AnyImageFile(["x.png/readme.txt", "crack/.a.png", "notes.md"]));
        Assert.False(ImageDatasetLayout.AnyImageFile([]));
    }
}
