using AnomalyClustering.Embedding.Onnx;
using AnomalyClustering.Testing;

namespace AnomalyClustering.Cli.Tests;

/// <summary>model inspect and model expose on the tiny ONNX fixture.</summary>
public sealed class ModelCommandTests
{
    private static string TinyModel => TestPaths.Fixture("onnx", "tiny_backbone.onnx");

    [Fact]
    public void InspectListsInputsOutputsAndShapes()
    {
        var run = CliRun.InProcess("model", "inspect", TinyModel);

        Assert.True(run.ExitCode == 0, run.Error);
        var signature = OnnxModelInspector.Inspect(TinyModel);
        foreach (var tensor in signature.Inputs.Concat(signature.Outputs))
        {
            Assert.Contains(tensor.Name, run.Output);
            Assert.Contains("[" + string.Join(", ", tensor.Shape!) + "]", run.Output);
        }
        Assert.Contains($"{signature.IntermediateTensors.Count} internal tensors", run.Output);
    }

    [Fact]
    public void ExposeAddsTheTensorsAsOutputs()
    {
        using var folder = new TempFolder();
        var internalTensor = OnnxModelInspector.Inspect(TinyModel).IntermediateTensors[^1];
        var output = folder.Combine("exposed.onnx");

        var run = CliRun.InProcess("model", "expose", TinyModel, "--tensor", internalTensor, "-o", output);

        Assert.True(run.ExitCode == 0, run.Error);
        var outputs = OnnxModelInspector.Inspect(output).Outputs.Select(o => o.Name).ToList();
        Assert.Equal(internalTensor, outputs[^1]);
        Assert.Contains(internalTensor, run.Output);
    }

    [Fact]
    public void ExposeOfAnUnknownTensorIsAnInputError()
    {
        using var folder = new TempFolder();
        var run = CliRun.InProcess("model", "expose", TinyModel, "--tensor", "no_such_tensor", "-o", folder.Combine("x.onnx"));
        run.AssertOneLineError(CliExitCodes.InputError, "no_such_tensor");
        // Points to the command that lists the tensors, not to a library call.
        Assert.Contains("model inspect <model> --all", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("OnnxModelInspector", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.Combine("x.onnx")));
    }

    [Fact]
    public void ExposeNeedsAnOutputPath() =>
        CliRun.InProcess("model", "expose", TinyModel, "--tensor", "x").AssertOneLineError(CliExitCodes.UsageError, "--output");

    [Fact]
    public void InspectOfAMissingOrCorruptModelIsAnInputError()
    {
        using var folder = new TempFolder();
        CliRun.InProcess("model", "inspect", folder.Combine("absent.onnx")).AssertOneLineError(CliExitCodes.InputError, "does not exist");
        var corrupt = folder.Write([0x08, 0xFF, 0xFF, 0xFF], "corrupt.onnx");
        CliRun.InProcess("model", "inspect", corrupt).AssertOneLineError(CliExitCodes.InputError, "corrupt.onnx");
    }
}
