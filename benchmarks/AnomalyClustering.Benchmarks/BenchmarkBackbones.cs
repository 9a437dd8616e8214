using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Embedding.Onnx;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Benchmarks;

/// <summary>Backbone descriptions for the ONNX models the benchmarks are given.</summary>
internal static class BenchmarkBackbones
{
    /// <summary>A description of <paramref name="model"/>: its first input, its 4-D float outputs as the feature maps, stretched to the input size.</summary>
    public static BackboneDescription Describe(string model)
    {
        var signature = OnnxModelInspector.Inspect(model);
        return new BackboneDescription
        {
            Name = Path.GetFileNameWithoutExtension(model),
            ModelPath = model,
            InputName = signature.Inputs[0].Name,
            FeatureOutputs = signature.Outputs.Where(o => o.ElementType == OnnxElementType.Float && o.Shape is { Count: 4 }).Select(o => o.Name).ToList(),
            Preprocessing = PreprocessingOptions.Default with { ResizeMode = ImageResizeMode.Stretch },
        };
    }
}
