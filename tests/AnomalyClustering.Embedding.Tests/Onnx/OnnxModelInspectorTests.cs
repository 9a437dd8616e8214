using AnomalyClustering.Embedding.Onnx;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Embedding.Tests.Onnx;

public class OnnxModelInspectorTests
{
    [Fact]
    public void ReadsInputsOutputsAndSymbolicDimensionsOfTheTorchExport()
    {
        var signature = OnnxModelInspector.Inspect(TinyBackboneFixture.ModelPath);

        var input = Assert.Single(signature.Inputs);
        Assert.Equal("input: Float[batch,3,height,width]", input.ToString());
        Assert.Equal(["stride8", "stride16"], signature.Outputs.Select(o => o.Name));
        Assert.Equal("stride8: Float[batch,32,height8,width8]", signature.Outputs[0].ToString());
        Assert.Equal(OnnxDimension.Fixed(64), signature.Outputs[1].Shape![1]);
        Assert.Equal(OnnxDimension.Symbolic("height16"), signature.Outputs[1].Shape![2]);
        Assert.Contains(TinyBackboneFixture.StemRelu, signature.IntermediateTensors);
        Assert.DoesNotContain("stride8", signature.IntermediateTensors);
        Assert.Equal(13, signature.OpsetVersion);
    }

    [Fact]
    public void ReadsTheSharedResNet50Trunk()
    {
        var path = TestPaths.RequireShared("models", "resnet50_imagenet_layer2_layer3.onnx");

        var signature = OnnxModelInspector.Inspect(path);

        var input = Assert.Single(signature.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal(OnnxElementType.Float, input.ElementType);
        Assert.Equal(4, input.Shape!.Count);
        Assert.False(input.Shape[0].IsFixed);
        Assert.Equal(["layer2", "layer3"], signature.Outputs.Select(o => o.Name));
        Assert.Equal(512, signature.Outputs[0].Shape![1].Value);
        Assert.Equal(1024, signature.Outputs[1].Shape![1].Value);
        Assert.True(signature.IntermediateTensors.Count > 50);
    }

    [Fact]
    public void RejectsAMissingFileAndBytesThatAreNotAModel()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"no-such-model-{Guid.NewGuid():N}.onnx");
        var e = Assert.Throws<OnnxModelException>(() => OnnxModelInspector.Inspect(missing));
        Assert.Contains(missing, e.Message);

        Assert.Throws<OnnxModelException>(() => OnnxModelInspector.Inspect("this is not a protobuf message at all"u8.ToArray()));
        Assert.Throws<OnnxModelException>(() => OnnxModelInspector.Inspect(Array.Empty<byte>()));
    }
}
