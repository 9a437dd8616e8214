using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Embeddings;

/// <summary>
/// PatchEmbedder against the torch reference pipeline. Relative error here means
/// max_i |actual_i - expected_i| / max_i |expected_i|: the worst deviation measured against the scale of the
/// bag, since single entries near zero (LayerNorm centres the data) make per-entry ratios meaningless.
/// </summary>
public class PatchEmbedderTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string> FixtureNames => new(PatchEmbeddingFixtures.Names());

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void EqualsTorchReferencePipeline(string name)
    {
        var fixture = PatchEmbeddingFixtures.Load(name);
        var bag = new PatchEmbedder(fixture.Options).Embed(fixture.Layers);

        Assert.Equal(fixture.Layers[0].Height, bag.GridHeight);
        Assert.Equal(fixture.Layers[0].Width, bag.GridWidth);
        Assert.Equal(fixture.Rows, bag.PatchCount);
        Assert.Equal(fixture.Columns, bag.Dimension);
        var error = RelativeError(bag.Data, fixture.Expected);
        output.WriteLine($"{name}: relative error {error:E2}");
        Assert.True(error <= Tolerance, $"{name}: relative error {error:E3} exceeds {Tolerance:E0}");
    }

    [Theory]
    // ResNet-like grids with production P = T = 1024: P-bins of width 1.125 and 2.25, T-bins of width 2.
    [InlineData("128x28x28 256x14x14", 1024, 1024, true)]
    // Fewer channels than P / 9: adaptive pooling repeats values.
    [InlineData("32x28x28 64x14x14", 1024, 1024, false)]
    // Same grid for both layers and a T-bin straddling the layer boundary (the second layer adds to channel 10).
    [InlineData("4x10x9 6x10x9", 25, 21, true)]
    // Three layers whose T-ranges split into groups of 16, 8 and fewer, two of them starting with a straddling T-bin.
    [InlineData("16x20x20 24x10x10 40x5x5", 100, 70, true)]
    public void EqualsLiteralPipeline(string shapes, int pretrain, int target, bool layerNorm)
    {
        var layers = shapes.Split(' ').Select((shape, i) =>
        {
            var size = shape.Split('x').Select(int.Parse).ToArray();
            return RandomMap(i + 1, size[0], size[1], size[2]);
        }).ToArray();
        var options = new PatchEmbeddingOptions { LayerNorm = layerNorm, PretrainDimension = pretrain, TargetDimension = target };
        var actual = new PatchEmbedder(options).Embed(layers);
        var expected = ReferencePatchEmbedder.Embed(layers, options);
        var error = RelativeError(actual.Data, expected);
        output.WriteLine($"{shapes} P={pretrain} T={target} layerNorm={layerNorm}: relative error {error:E2}");
        Assert.True(error <= Tolerance, $"relative error {error:E3} exceeds {Tolerance:E0}");
    }

    [Fact]
    public void CallerBufferOverloadWritesTheSameBag()
    {
        var fixture = PatchEmbeddingFixtures.Load("three_layers_nonsquare");
        var embedder = new PatchEmbedder(fixture.Options);
        var bag = embedder.Embed(fixture.Layers);
        var buffer = new float[bag.Data.Length];
        buffer.AsSpan().Fill(float.NaN);

        var shape = embedder.Embed(fixture.Layers, buffer);

        Assert.Equal(new PatchBagShape(bag.GridHeight, bag.GridWidth, bag.Dimension), shape);
        Assert.Equal(bag.Data, buffer);
    }

    [Fact]
    public void OutputShapeIsTheFirstLayersGridAndTargetDimension()
    {
        var embedder = new PatchEmbedder(new PatchEmbeddingOptions { TargetDimension = 300 });
        var shape = embedder.OutputShape([new(512, 28, 30), new(1024, 14, 15)]);
        Assert.Equal(new PatchBagShape(28, 30, 300), shape);
        Assert.Equal(840, shape.PatchCount);
        Assert.Equal(840 * 300, shape.Length);
    }

    [Fact]
    public void OneEmbedderServesChangingShapes()
    {
        var first = PatchEmbeddingFixtures.Load("grid28_grid14");
        var second = new[] { RandomMap(3, 8, 20, 16), RandomMap(4, 16, 10, 8) };
        var embedder = new PatchEmbedder(first.Options);

        var before = embedder.Embed(first.Layers).Data;
        var other = embedder.Embed(second).Data;
        var after = embedder.Embed(first.Layers).Data;

        Assert.Equal(before, after);
        Assert.Equal(new PatchEmbedder(first.Options).Embed(second).Data, other);
    }

    [Fact]
    public void LayerNormMakesTheBagIndependentOfEachLayersScaleAndOffset()
    {
        var layers = new[] { RandomMap(5, 6, 12, 12), RandomMap(6, 10, 6, 6) };
        var shifted = layers.Select((l, i) =>
            l with { Data = l.Data.ToArray().Select(v => v * (3f + i) + 5f).ToArray() }).ToArray();
        var embedder = new PatchEmbedder(new PatchEmbeddingOptions { PretrainDimension = 64, TargetDimension = 32 });

        var plain = embedder.Embed(layers).Data;
        var rescaled = embedder.Embed(shifted).Data;

        Assert.True(RelativeError(rescaled, plain.Select(v => (double)v).ToArray()) <= 1e-4);
        var withoutNorm = new PatchEmbedder(embedder.Options with { LayerNorm = false });
        Assert.True(RelativeError(withoutNorm.Embed(shifted).Data, withoutNorm.Embed(layers).Data.Select(v => (double)v).ToArray()) > 0.1);
    }

    [Theory]
    [InlineData(0, 1024, 3)]
    [InlineData(1024, 0, 3)]
    [InlineData(-5, 1024, 3)]
    [InlineData(1024, 1024, 0)]
    [InlineData(1024, 1024, 2)]
    [InlineData(1024, 1024, -3)]
    public void RejectsInvalidOptions(int pretrain, int target, int neighbourhood)
    {
        var options = new PatchEmbeddingOptions { PretrainDimension = pretrain, TargetDimension = target, NeighbourhoodSize = neighbourhood };
        Assert.Throws<InvalidClusteringInputException>(options.Validate);
        Assert.Throws<InvalidClusteringInputException>(() => new PatchEmbedder(options));
    }

    [Fact]
    public void RejectsMismatchedShapes()
    {
        var embedder = new PatchEmbedder(new PatchEmbeddingOptions { PretrainDimension = 16, TargetDimension = 8 });
        var good = RandomMap(7, 4, 6, 6);

        Assert.Throws<InvalidClusteringInputException>(() => embedder.Embed([]));
        Assert.Throws<InvalidClusteringInputException>(() => embedder.Embed([good with { Channels = 5 }]));
        Assert.Throws<InvalidClusteringInputException>(() => embedder.Embed([good, good with { Data = new float[10] }]));
        Assert.Throws<InvalidClusteringInputException>(() => embedder.Embed([new FeatureMap(Array.Empty<float>(), 0, 6, 6)]));
        Assert.Throws<InvalidClusteringInputException>(() => embedder.Embed([good], new float[6 * 6 * 8 - 1]));
        Assert.Throws<InvalidClusteringInputException>(() => embedder.Embed([good], new float[6 * 6 * 8 + 8]));
        Assert.Throws<InvalidClusteringInputException>(() => embedder.OutputShape([]));
        Assert.Throws<InvalidClusteringInputException>(() => embedder.OutputShape([new(4, 0, 6)]));
    }

    [Theory]
    [InlineData(float.NaN, true)]
    [InlineData(float.PositiveInfinity, true)]
    [InlineData(float.NegativeInfinity, false)]
    public void RejectsNonFiniteValues(float bad, bool layerNorm)
    {
        var embedder = new PatchEmbedder(new PatchEmbeddingOptions { PretrainDimension = 16, TargetDimension = 8, LayerNorm = layerNorm });
        var data = RandomMap(8, 4, 6, 6).Data.ToArray();
        data[37] = bad;
        var error = Assert.Throws<InvalidClusteringInputException>(() => embedder.Embed([RandomMap(9, 2, 6, 6), new FeatureMap(data, 4, 6, 6)]));
        Assert.Contains("feature map 1", error.Message);
    }

    private static FeatureMap RandomMap(int seed, int channels, int height, int width)
    {
        var random = new Random(seed);
        var data = new float[channels * height * width];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = MathF.Max(0f, (float)(random.NextDouble() * 2 - 0.7));
        }
        return new FeatureMap(data, channels, height, width);
    }

    private static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, scale = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return worst / scale;
    }
}
