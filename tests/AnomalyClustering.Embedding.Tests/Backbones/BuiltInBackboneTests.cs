using System.Numerics.Tensors;
using System.Security.Cryptography;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Onnx;

namespace AnomalyClustering.Embedding.Tests.Backbones;

public class BuiltInBackboneTests
{
    [Fact]
    public void GeneratesTheSameBytesEveryTime()
    {
        var first = SHA256.HashData(BuiltInBackbone.CreateModel());
        var second = SHA256.HashData(BuiltInBackbone.CreateModel());

        Assert.Equal(Convert.ToHexString(first), Convert.ToHexString(second));
        Assert.Equal(BuiltInBackbone.Description.ComputeIdentity(), BuiltInBackbone.Description.ComputeIdentity());
    }

    [Fact]
    public void IsAValidModelWithNamedStride8AndStride16Outputs()
    {
        var signature = OnnxModelInspector.Inspect(BuiltInBackbone.CreateModel());

        Assert.Equal("input: Float[batch,3,height,width]", Assert.Single(signature.Inputs).ToString());
        Assert.Equal(["stride8", "stride16"], signature.Outputs.Select(o => o.Name));
        Assert.Contains("stride4", signature.IntermediateTensors);
        BuiltInBackbone.Description.Validate();
        Assert.Contains("less accurate", BuiltInBackbone.Description.Summary);
    }

    [Fact]
    public void IsSelectedFromJsonByItsModelPath()
    {
        var description = BackboneDescription.FromJson("""
            { "name": "default", "modelPath": "builtin:random-texture-cnn-v1", "featureOutputs": ["stride4", "stride8"] }
            """);

        using var backbone = new OnnxBackbone(description);
        var output = backbone.Run(new float[3 * 64 * 64], 1, 64, 64);
        Assert.Equal((64, 16, 16), (output["stride4"].Channels, output["stride4"].Height, output["stride4"].Width));
        Assert.Equal((128, 8, 8), (output["stride8"].Channels, output["stride8"].Height, output["stride8"].Width));

        var e = Assert.Throws<BackboneConfigurationException>(() => (description with { ModelPath = "builtin:resnet" }).Validate());
        Assert.Contains(BuiltInBackbone.ModelPath, e.Message);
    }

    [Fact]
    public void RunsAt224AndGivesRectifiedMapsAtStrides8And16()
    {
        using var backbone = BuiltInBackbone.Open();
        const int batch = 2;
        var images = new float[batch * 3 * 224 * 224];
        var random = new Random(11);
        for (int i = 0; i < images.Length; i++)
        {
            images[i] = (float)(random.NextDouble() * 4 - 2);
        }

        var output = backbone.Run(images, batch);

        var stride8 = output["stride8"];
        var stride16 = output["stride16"];
        Assert.Equal((batch, 128, 28, 28), (stride8.BatchSize, stride8.Channels, stride8.Height, stride8.Width));
        Assert.Equal((batch, 256, 14, 14), (stride16.BatchSize, stride16.Channels, stride16.Height, stride16.Width));
        foreach (var layer in output.Layers)
        {
            Assert.All(layer.Data, v => Assert.True(float.IsFinite(v) && v >= 0));
            int alive = Enumerable.Range(0, layer.Channels)
                .Count(c => TensorPrimitives.Max(layer.Data.AsSpan(c * layer.Height * layer.Width, layer.Height * layer.Width)) > 0);
            Assert.True(alive >= layer.Channels / 2, $"{layer.Name}: only {alive} of {layer.Channels} channels respond to noise");
        }
    }

    [Fact]
    public void TellsOrientedTexturesApart()
    {
        using var backbone = BuiltInBackbone.Open();

        // Stripes of period 6 px: horizontal, the same shifted by half a period, and vertical.
        var horizontal = Pool(backbone, Stripes(vertical: false, phase: 0));
        var shifted = Pool(backbone, Stripes(vertical: false, phase: 3));
        var vertical = Pool(backbone, Stripes(vertical: true, phase: 0));

        float sameTexture = TensorPrimitives.CosineSimilarity(horizontal, shifted);
        float otherTexture = TensorPrimitives.CosineSimilarity(horizontal, vertical);
        Assert.True(sameTexture > otherTexture + 0.05f,
            $"shifted stripes should look alike (cosine {sameTexture:F3}) more than rotated ones ({otherTexture:F3})");
    }

    /// <summary>The stride-8 map averaged over positions: a texture descriptor of 128 numbers.</summary>
    private static float[] Pool(OnnxBackbone backbone, float[] image)
    {
        var map = backbone.Run(image, 1)["stride8"];
        var pooled = new float[map.Channels];
        int area = map.Height * map.Width;
        for (int c = 0; c < map.Channels; c++)
        {
            pooled[c] = TensorPrimitives.Sum(map.Data.AsSpan(c * area, area)) / area;
        }
        return pooled;
    }

    private static float[] Stripes(bool vertical, int phase)
    {
        var image = new float[3 * 224 * 224];
        for (int y = 0; y < 224; y++)
        {
            for (int x = 0; x < 224; x++)
            {
                int t = (vertical ? x : y) + phase;
                float value = t % 6 < 3 ? 1.5f : -1.5f;
                for (int c = 0; c < 3; c++)
                {
                    image[(c * 224 + y) * 224 + x] = value;
                }
            }
        }
        return image;
    }
}
