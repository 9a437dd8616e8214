using System.Text;
using AnomalyClustering.Core.Lines;
using static AnomalyClustering.Core.Tests.Lines.LineCatalogTestData;

namespace AnomalyClustering.Core.Tests.Lines;

/// <summary>The catalog's JSON format: exact round trip, the stable field names, and typed errors on bad documents.</summary>
public class LineCatalogJsonTests
{
    private static LineCatalog Sample() => Catalog(new AssignmentRuleSettings(0.15, 1.75),
        Cluster("crack", 12, 0.123456789012345, 0.1f, -2.5e-8f, 3.4028235e38f),
        Cluster("stain", 1, 0, 1f / 3, 2f / 3, -1f));

    private static string Write(LineCatalog catalog)
    {
        using var stream = new MemoryStream();
        LineCatalogJson.Write(stream, catalog);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static LineCatalog Read(string json) => LineCatalogJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void RoundTripKeepsEveryValueExactly()
    {
        var original = Sample();
        var back = Read(Write(original));
        Assert.Equal(original.Line, back.Line);
        Assert.Equal(original.Version, back.Version);
        Assert.Equal(original.Source, back.Source);
        Assert.Equal(original.DetectionThreshold, back.DetectionThreshold);
        Assert.Equal(original.Rule, back.Rule);
        Assert.Equal(original.EmbeddingDimension, back.EmbeddingDimension);
        Assert.Equal(original.Clusters.Count, back.Clusters.Count);
        for (var c = 0; c < original.Clusters.Count; c++)
        {
            Assert.Equal(original.Clusters[c].Name, back.Clusters[c].Name);
            Assert.Equal(original.Clusters[c].Size, back.Clusters[c].Size);
            Assert.Equal(original.Clusters[c].Spread, back.Clusters[c].Spread);
            Assert.Equal(original.Clusters[c].Centroid, back.Clusters[c].Centroid);
        }
        // The same decision, bit for bit, from the catalog read back.
        float[] x = [0.2f, 0.1f, 1e37f];
        Assert.Equal(new WardAssignmentRule(original).Assign(x).WardIncreases, new WardAssignmentRule(back).Assign(x).WardIncreases);
    }

    [Fact]
    public void TheScoringOfAServerCatalogRoundTripsAndIsAbsentOtherwise()
    {
        var scoring = new CatalogScoring("job-7", "{\"mode\":\"unsupervised\",\"tau\":0.3}", "{\"kind\":\"builtin\"}", [4, 1], ["features/a", "features/b"], 1, []);
        var json = Write(Sample() with { Scoring = scoring });
        var back = Read(json).Scoring!;

        Assert.Equal("job-7", back.JobId);
        Assert.Equal("{\"mode\":\"unsupervised\",\"tau\":0.3}", back.OptionsJson);
        Assert.Equal("{\"kind\":\"builtin\"}", back.BackboneJson);
        Assert.Equal([4, 1], back.ReferenceImages);
        Assert.Equal(["features/a", "features/b"], back.ReferenceFeatureBlobs);
        Assert.Equal(1, back.ReferencesPerImage);
        Assert.Empty(back.NormalFeatureBlobs);
        Assert.Null(Read(Write(Sample())).Scoring);
        Assert.DoesNotContain("\"scoring\"", Write(Sample()), StringComparison.Ordinal);
    }

    [Fact]
    public void TheFieldNamesAreTheDocumentedOnes()
    {
        var json = Write(Sample());
        foreach (var field in new[] { "\"format\": \"anomaly-clustering/line-catalog\"", "\"formatVersion\": 1", "\"line\": \"tiles\"", "\"version\": 3",
                     "\"backbone\": \"resnet50-layer2-layer3\"", "\"optionsReference\": \"job:line-test\"", "\"referenceBank\": \"jobs/line-test/normal-bank\"",
                     "\"mode\": \"semi-supervised\"", "\"detectionThreshold\": 0.42", "\"name\": \"ward-increase\"", "\"margin\": 0.15",
                     "\"acceptanceFactor\": 1.75", "\"embeddingDimension\": 3", "\"size\": 12", "\"centroid\": [" })
        {
            Assert.Contains(field, json);
        }
    }

    [Fact]
    public void AMissingThresholdAndBankReadAsNull()
    {
        var catalog = Sample() with { DetectionThreshold = null, Source = Source with { ReferenceBank = null } };
        var json = Write(catalog);
        Assert.Contains("\"detectionThreshold\": null", json);
        var back = Read(json);
        Assert.Null(back.DetectionThreshold);
        Assert.Null(back.Source.ReferenceBank);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{\"format\": \"something-else\"}", "not a line catalog")]
    [InlineData("[1, 2]", "not a line catalog")]
    public void DocumentsThatAreNoCatalogAreRefused(string json, string expected)
    {
        Assert.Contains(expected, Assert.Throws<InvalidLineCatalogException>(() => Read(json)).Message);
    }

    [Theory]
    [InlineData("\"formatVersion\": 1", "\"formatVersion\": 2", "format version 2")]
    [InlineData("\"name\": \"ward-increase\"", "\"name\": \"k-means\"", "'k-means'")]
    [InlineData("\"margin\": 0.15", "\"margin\": 1.5", "out of range")]
    [InlineData("\"size\": 12", "\"size\": 0", "size 0")]
    [InlineData("\"name\": \"stain\"", "\"name\": \"crack\"", "repeated name")]
    [InlineData("\"embeddingDimension\": 3", "\"embeddingDimension\": 4", "dimension is 4")]
    [InlineData("\"version\": 3", "\"version\": 0", "versions start at 1")]
    [InlineData("\"line\": \"tiles\",", "", "no 'line' field")]
    [InlineData("\"size\": 12", "\"size\": \"twelve\"", "wrong type")]
    public void BadFieldsAreNamed(string field, string replacement, string expected)
    {
        var json = Write(Sample());
        Assert.Contains(field, json);
        var bad = json.Replace(field, replacement, StringComparison.Ordinal);
        Assert.Contains(expected, Assert.Throws<InvalidLineCatalogException>(() => Read(bad)).Message);
    }
}
