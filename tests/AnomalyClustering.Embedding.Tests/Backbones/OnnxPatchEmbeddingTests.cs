using System.Text.Json;
using AnomalyClustering.Core.Embeddings;
using AnomalyClustering.Core.Interop;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Embedding.Tests.Backbones;

/// <summary>
/// The whole embedding path, preprocessed tensor -> ONNX Runtime -> Core's PatchEmbedder, against
/// torch's backbone followed by the torch reference pipeline (tools/fixtures/gen_onnx_patch_embeddings.py).
/// </summary>
public class OnnxPatchEmbeddingTests
{
    public static TheoryData<string> Cases() =>
        new(JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("onnx", "patch_embeddings.json")))
            .RootElement.EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeThroughCoreEqualsThePyTorchPipeline(string caseName)
    {
        var spec = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("onnx", "patch_embeddings.json")))
            .RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == caseName);
        var expected = NpyArray.Parse(File.ReadAllBytes(TestPaths.Fixture("onnx", spec.GetProperty("file").GetString()!)));
        var embedder = new PatchEmbedder(new PatchEmbeddingOptions
        {
            PretrainDimension = spec.GetProperty("pretrain_dimension").GetInt32(),
            TargetDimension = spec.GetProperty("target_dimension").GetInt32(),
            LayerNorm = spec.GetProperty("layer_norm").GetBoolean(),
        });
        using var backbone = new OnnxBackbone(BackboneDescription.Load(TinyBackboneFixture.DescriptionPath));

        var output = backbone.Run(TinyBackboneFixture.Input.ToSingles(), batchSize: 2);

        var reference = expected.ToDoubles();
        int perImage = reference.Length / output.BatchSize;
        for (int image = 0; image < output.BatchSize; image++)
        {
            var bag = embedder.Embed(output.FeatureMaps(image));
            Assert.Equal(expected.Shape[1], bag.PatchCount);
            Assert.Equal(expected.Shape[2], bag.Dimension);
            var expectedImage = reference.AsSpan(image * perImage, perImage);
            // Relative to the largest magnitude, as in the Core embedding tests: LayerNorm centres values
            // around zero, where per-element ratios say nothing.
            double scale = 0, worst = 0;
            foreach (var v in expectedImage)
            {
                scale = Math.Max(scale, Math.Abs(v));
            }
            for (int i = 0; i < perImage; i++)
            {
                worst = Math.Max(worst, Math.Abs(bag.Data[i] - expectedImage[i]));
            }
            Assert.True(worst / scale <= 1e-4, $"image {image}: max error {worst:E2} relative to {scale:E2} is {worst / scale:E2}");
        }
    }
}
