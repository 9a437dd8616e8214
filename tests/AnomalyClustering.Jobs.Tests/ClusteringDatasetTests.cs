using AnomalyClustering.Core.Validation;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Jobs.Tests;

public sealed class ClusteringDatasetTests
{
    [Fact]
    public void ClassNamesAreTheDistinctLabelsInOrdinalOrder()
    {
        var dataset = new ClusteringDataset([new("1", "1.png", "scratch"), new("2", "2.png", "good"), new("3", "3.png", "scratch")]);
        Assert.True(dataset.HasLabels);
        Assert.Equal(["good", "scratch"], dataset.ClassNames);
        Assert.Empty(dataset.NormalImages);
    }

    [Fact]
    public void LabelsOnSomeImagesOnlyAreRefused() =>
        Assert.Contains("label every image or none", Assert.Throws<InvalidClusteringInputException>(() => new ClusteringDataset([new("1", "1.png", "a"), new("2", "2.png")])).Message);

    [Fact]
    public void DuplicateIdsAndEmptyDatasetsAreRefused()
    {
        Assert.Contains("occurs twice", Assert.Throws<InvalidClusteringInputException>(() => new ClusteringDataset([new("1", "1.png"), new("1", "2.png")])).Message);
        Assert.Contains("no images", Assert.Throws<InvalidClusteringInputException>(() => new ClusteringDataset([])).Message);
    }
}
