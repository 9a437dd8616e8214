using AnomalyClustering.Embedding.Onnx;
using AnomalyClustering.Testing;
using Microsoft.ML.OnnxRuntime;

namespace AnomalyClustering.Embedding.Tests.Onnx;

public class OnnxGraphEditorTests
{
    [Fact]
    public void ExposesAnInternalTensorOfTheTorchExportWithTheShapeTorchGives()
    {
        var model = File.ReadAllBytes(TinyBackboneFixture.ModelPath);
        var stem = TinyBackboneFixture.StemRelu;

        var edited = OnnxGraphEditor.ExposeTensors(model, [stem]);

        // The export has no value_info: the type comes from ONNX Runtime's inference and is written into the file.
        var exposed = OnnxModelInspector.Inspect(edited).Outputs;
        Assert.Equal(["stride8", "stride16", stem], exposed.Select(o => o.Name));
        Assert.Equal(OnnxElementType.Float, exposed[2].ElementType);
        Assert.Equal(16, exposed[2].Shape![1].Value);

        var input = TinyBackboneFixture.Input;
        using var session = new InferenceSession(edited);
        using var value = OrtValue.CreateTensorValueFromMemory(input.ToSingles(), input.Shape.Select(d => (long)d).ToArray());
        using var results = session.Run(new RunOptions(), ["input"], [value], [stem]);
        Assert.Equal(TinyBackboneFixture.StemReluShape.Select(d => (long)d), results[0].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void ExposesLayer1OfTheSharedResNet50()
    {
        var path = TestPaths.RequireShared("models", "resnet50_imagenet_layer2_layer3.onnx");
        // The last ReLU of the first stage (torchvision's layer1) of this export, stride 4.
        const string layer1 = "/stages.0/stages.0.2/Relu_2_output_0";

        var edited = OnnxGraphEditor.ExposeTensors(File.ReadAllBytes(path), [layer1]);

        var output = OnnxModelInspector.Inspect(edited).Outputs[2];
        Assert.Equal(layer1, output.Name);
        Assert.Equal(256, output.Shape![1].Value);
        var input = new float[3 * 224 * 224];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (i % 97) / 97f - 0.5f;
        }
        using var session = new InferenceSession(edited);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 224, 224]);
        using var results = session.Run(new RunOptions(), ["input"], [value], [layer1, "layer2"]);
        Assert.Equal([1L, 256, 56, 56], results[0].GetTensorTypeAndShape().Shape);
        Assert.Equal([1L, 512, 28, 28], results[1].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void TakesTheTypeFromValueInfoWhenTheGraphDeclaresIt()
    {
        var model = TwoReluModel();

        var edited = OnnxGraphEditor.ExposeTensors(model, ["hidden"]);

        var hidden = OnnxModelInspector.Inspect(edited).Outputs[1];
        // "declared_width" exists only in value_info; ONNX Runtime's inference would have said 4.
        Assert.Equal("hidden: Float[n,declared_width]", hidden.ToString());
        using var session = new InferenceSession(edited);
        using var value = OrtValue.CreateTensorValueFromMemory(new float[] { -1, 2, -3, 4 }, [1, 4]);
        using var results = session.Run(new RunOptions(), ["x"], [value], ["hidden", "y"]);
        Assert.Equal([0f, 2, 0, 4], results[0].GetTensorDataAsSpan<float>().ToArray());
        Assert.Equal([0f, 4, 0, 8], results[1].GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void NamesTheClosestTensorsWhenANameIsUnknown()
    {
        var model = File.ReadAllBytes(TinyBackboneFixture.ModelPath);

        var e = Assert.Throws<OnnxModelException>(() => OnnxGraphEditor.ExposeTensors(model, ["/stem/stem.2/Relu"]));

        Assert.Contains("'/stem/stem.2/Relu'", e.Message);
        Assert.Contains($"'{TinyBackboneFixture.StemRelu}'", e.Message);
    }

    [Fact]
    public void RefusesInitializersAndLeavesExistingOutputsAlone()
    {
        var model = TwoReluModel();

        var e = Assert.Throws<OnnxModelException>(() => OnnxGraphEditor.ExposeTensors(model, ["scale"]));
        Assert.Contains("initializer", e.Message);

        var same = OnnxGraphEditor.ExposeTensors(model, ["y", "y"]);
        Assert.Equal(["y"], OnnxModelInspector.Inspect(same).Outputs.Select(o => o.Name));
    }

    /// <summary>x [n,4] -> Relu -> hidden -> Mul(scale = 2) -> y, with value_info for hidden.</summary>
    private static byte[] TwoReluModel()
    {
        var graph = new OnnxGraphBuilder("two_step");
        OnnxDimension[] shape = [OnnxDimension.Symbolic("n"), OnnxDimension.Fixed(4)];
        graph.AddInput("x", OnnxElementType.Float, shape);
        graph.AddInitializer("scale", [2f]);
        graph.AddNode("Relu", "relu", ["x"], ["hidden"]);
        graph.AddNode("Mul", "mul", ["hidden", "scale"], ["y"]);
        graph.AddValueInfo("hidden", OnnxElementType.Float, [OnnxDimension.Symbolic("n"), OnnxDimension.Symbolic("declared_width")]);
        graph.AddOutput("y", OnnxElementType.Float, shape);
        return graph.Build("test", "test model");
    }
}
