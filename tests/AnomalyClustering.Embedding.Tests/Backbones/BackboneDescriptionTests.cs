using AnomalyClustering.Embedding.Imaging;
using AnomalyClustering.Embedding.Backbones;
using AnomalyClustering.Jobs;

namespace AnomalyClustering.Embedding.Tests.Backbones;

public sealed class BackboneDescriptionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("backbone-description-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void LoadsJsonAndResolvesTheModelPathAgainstTheDescriptionFile()
    {
        var description = BackboneDescription.Load(TinyBackboneFixture.DescriptionPath);

        Assert.Equal("tiny-test-backbone", description.Name);
        Assert.Equal(Path.GetFullPath(TinyBackboneFixture.ModelPath), description.ModelPath);
        Assert.Equal(["stride8", "stride16"], description.FeatureOutputs);
        Assert.Equal(112, description.Preprocessing.CropWidth);
        Assert.Equal(112, description.Preprocessing.CropHeight);
        Assert.Equal(128, description.Preprocessing.ResizeShorterSide);
        Assert.Equal(new RgbValues(0.229f, 0.224f, 0.225f), description.Preprocessing.Std);
        description.Validate();
    }

    [Fact]
    public void RoundTripsThroughJson()
    {
        var description = Tiny() with { Preprocessing = new PreprocessingOptions { CropWidth = 200, CropHeight = 200, ResizeShorterSide = 230, Mean = new(0.5f, 0.5f, 0.5f), ResizeMode = ImageResizeMode.Stretch } };

        var back = BackboneDescription.FromJson(description.ToJson());

        Assert.Equal(description, back);
        Assert.Contains("\"featureOutputs\"", description.ToJson());
    }

    [Fact]
    public void SaysWhichModelFileIsMissing()
    {
        var missing = Path.Combine(_folder, "absent.onnx");
        var e = Assert.Throws<BackboneConfigurationException>(() => (Tiny() with { ModelPath = missing }).Validate());
        Assert.Contains(missing, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void ListsTheModelsInputsWhenTheInputNameIsWrong()
    {
        var e = Assert.Throws<BackboneConfigurationException>(() => (Tiny() with { InputName = "images" }).Validate());
        Assert.Contains("no input 'images'", e.Message);
        Assert.Contains("input: Float[batch,3,height,width]", e.Message);
    }

    [Fact]
    public void ListsOutputsAndCloseInternalTensorsWhenAnOutputNameIsWrong()
    {
        var e = Assert.Throws<BackboneConfigurationException>(() => (Tiny() with { FeatureOutputs = ["stride8", "layer3"] }).Validate());
        Assert.Contains("'layer3'", e.Message);
        Assert.Contains("'stride8', 'stride16'", e.Message);
        Assert.Contains("closest internal tensors", e.Message);
    }

    [Fact]
    public void AcceptsAnInternalTensorAsFeatureOutput()
    {
        (Tiny() with { FeatureOutputs = [TinyBackboneFixture.StemRelu, "stride8"] }).Validate();
    }

    [Fact]
    public void ReadsTheResizeModeAsPeopleWriteIt()
    {
        var json = """{ "name": "x", "modelPath": "m.onnx", "featureOutputs": ["a"], "preprocessing": { "resizeMode": "stretch", "cropWidth": 224, "cropHeight": 224 } }""";
        Assert.Equal(ImageResizeMode.Stretch, BackboneDescription.FromJson(json).Preprocessing.ResizeMode);
        Assert.Throws<BackboneConfigurationException>(() => BackboneDescription.FromJson(json.Replace("stretch", "squash")));
    }

    [Fact]
    public void ReportsEveryStaticProblemAtOnce()
    {
        var bad = Tiny() with
        {
            FeatureOutputs = ["stride8", "stride8"],
            Preprocessing = new PreprocessingOptions { CropWidth = 0, Std = new(0.2f, 0f, 0.2f) },
        };

        var e = Assert.Throws<BackboneConfigurationException>(bad.Validate);

        Assert.Contains("'stride8' more than once", e.Message);
        Assert.Contains("cropWidth and cropHeight must be at least 1", e.Message);
        Assert.Contains("std of channel 1 must be positive and finite", e.Message);
    }

    [Fact]
    public void RejectsJsonWithoutTheRequiredFields()
    {
        var e = Assert.Throws<BackboneConfigurationException>(() => BackboneDescription.FromJson("""{ "name": "x", "modelPath": "m.onnx" }""", "test.json"));
        Assert.Contains("test.json", e.Message);
        Assert.Contains("featureOutputs", e.Message);
        var missing = Path.Combine(_folder, "none.json");
        Assert.Contains(missing, Assert.Throws<BackboneConfigurationException>(() => BackboneDescription.Load(missing)).Message);
    }

    [Fact]
    public void IdentityFollowsModelBytesOutputsAndPreprocessingButNotTheName()
    {
        var description = Tiny();
        var identity = description.ComputeIdentity();

        Assert.Matches("^[0-9a-f]{64}$", identity);
        Assert.Equal(identity, description.ComputeIdentity());
        Assert.Equal(identity, (description with { Name = "renamed", Summary = "other words" }).ComputeIdentity());
        Assert.NotEqual(identity, (description with { FeatureOutputs = ["stride16", "stride8"] }).ComputeIdentity());
        Assert.NotEqual(identity, (description with { FeatureOutputs = ["stride8"] }).ComputeIdentity());
        Assert.NotEqual(identity, (description with { Preprocessing = description.Preprocessing with { CropWidth = 100 } }).ComputeIdentity());
        Assert.NotEqual(identity, (description with { Preprocessing = description.Preprocessing with { ResizeMode = ImageResizeMode.Stretch } }).ComputeIdentity());
        Assert.NotEqual(identity, (description with { Preprocessing = description.Preprocessing with { Mean = new(0.5f, 0.456f, 0.406f) } }).ComputeIdentity());

        var copy = Path.Combine(_folder, "copy.onnx");
        File.Copy(description.ModelPath, copy);
        Assert.Equal(identity, (description with { ModelPath = copy }).ComputeIdentity());
        File.AppendAllText(copy, " ");
        Assert.NotEqual(identity, (description with { ModelPath = copy }).ComputeIdentity());
    }

    [Fact]
    public void SavedDescriptionLoadsBackWithAnAbsoluteModelPath()
    {
        var path = Path.Combine(_folder, "saved.json");
        Tiny().Save(path);
        Assert.Equal(Tiny(), BackboneDescription.Load(path));
    }

    private static BackboneDescription Tiny() => BackboneDescription.Load(TinyBackboneFixture.DescriptionPath);
}
